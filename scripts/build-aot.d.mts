// Types of scripts/build-aot.mjs (plain JS so that it runs without a build step) for the TypeScript callers.
export declare const EXPECTED_WAMR: string;
export declare class AotError extends Error {}
export interface Wamrc {
  readonly bin: string;
  readonly version: string;
}
export declare function findWamrc(env?: NodeJS.ProcessEnv): Wamrc;
export declare function targetFor(arch?: string, env?: NodeJS.ProcessEnv): { target: string; cpu: string };
/** Compiles `input` (.wasm) to `output` (.aot); returns the output's size in bytes. */
export declare function compileAot(wamrc: Wamrc, input: string, output: string, env?: NodeJS.ProcessEnv): number;
