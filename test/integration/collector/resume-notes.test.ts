// The notes a resumed stream's state gives: the start-over command works as printed, even for odd paths.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resumeNotes, startOverCommand } from '../../../input/collector/state/resume-notes.js';
import { streamPaths } from '../../../input/collector/state/state.js';

const T = Date.parse('2026-03-01T00:00:00Z');

describe('resumeNotes', () => {
  it('the start-over command removes exactly the stream files, in a directory with a space and a quote', () => {
    const root = path.join(mkdtempSync(path.join(tmpdir(), 'fbjc-notes-')), "state dir's");
    const key = { org: 'o 1', service: 'sso' };
    const p = streamPaths(root, key);
    const other = streamPaths(root, { org: 'o 1', service: 'directory' });
    mkdirSync(p.dir, { recursive: true });
    for (const f of [p.state, p.backup, p.journal, other.state]) writeFileSync(f, 'x');
    execSync(startOverCommand(p), { shell: '/bin/sh' });
    expect([p.state, p.backup, p.journal].map(existsSync)).toEqual([false, false, false]);
    expect(existsSync(other.state)).toBe(true);
    // rm -f: works as printed when the backup was never written too.
    execSync(startOverCommand(p), { shell: '/bin/sh' });
  });

  it('says nothing for a state in the past with --since not given or equal to the stored start', () => {
    const paths = streamPaths('/s', { org: '', service: 'all' });
    const state = { org: '', service: 'all', since: T, checkpoint: T + 1000 };
    expect(resumeNotes(state, { name: 'all', paths, now: T + 5000, sinceMs: T - 99, sinceGiven: false })).toEqual({});
    expect(resumeNotes(state, { name: 'all', paths, now: T + 5000, sinceMs: T, sinceGiven: true })).toEqual({});
    const n = resumeNotes(state, { name: 'all', paths, now: T + 500, sinceMs: T - 99, sinceGiven: true });
    expect(n.sinceIgnored).toMatch(/^--since 2026-02-28T23:59:59\.901Z is ignored for stream all/);
    expect(n.futureCheckpoint?.reason).toBe(
      'checkpoint 2026-03-01T00:00:01.000Z in /s/_default/all.json is later than now (2026-03-01T00:00:00.500Z): ' +
        'nothing is fetched until the clock passes it',
    );
  });
});
