// Is a span an IPv4 or IPv6 address? (An `ip` field that is not one makes Elasticsearch reject the document.)

@inline function isHex(c: u8): bool {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function ipv4(s: usize, e: usize): bool {
  let parts = 0;
  let p = s;
  while (true) {
    const start = p;
    let v: u32 = 0;
    while (p < e && p - start < 4 && load<u8>(p) >= 0x30 && load<u8>(p) <= 0x39) {
      v = v * 10 + <u32>(load<u8>(p) - 0x30);
      p++;
    }
    const n = p - start;
    if (n == 0 || n > 3 || v > 255 || (n > 1 && load<u8>(start) == 0x30)) return false;
    parts++;
    if (parts == 4) return p == e;
    if (p >= e || load<u8>(p) != 0x2e) return false;
    p++;
  }
}

function ipv6(s: usize, e: usize): bool {
  let groups = 0;
  let gap = false;
  let p = s;
  if (e - s >= 2 && load<u8>(s) == 0x3a && load<u8>(s + 1) == 0x3a) {
    gap = true;
    p = s + 2;
    if (p == e) return true;
  } else if (p < e && load<u8>(p) == 0x3a) return false;
  while (p < e) {
    const start = p;
    while (p < e && p - start < 5 && isHex(load<u8>(p))) p++;
    const n = p - start;
    if (p < e && load<u8>(p) == 0x2e) {
      // Trailing dotted IPv4: two groups.
      if (!ipv4(start, e)) return false;
      groups += 2;
      p = e;
      break;
    }
    if (n == 0 || n > 4) return false;
    groups++;
    if (p == e) break;
    if (load<u8>(p) != 0x3a) return false;
    p++;
    if (p < e && load<u8>(p) == 0x3a) {
      if (gap) return false;
      gap = true;
      p++;
      if (p == e) break;
    } else if (p == e) return false;
  }
  return gap ? groups <= 7 : groups == 8;
}

export function isIp(s: usize, e: usize): bool {
  if (e <= s || e - s > 45) return false;
  for (let p = s; p < e; p++) if (load<u8>(p) == 0x3a) return ipv6(s, e);
  return ipv4(s, e);
}
