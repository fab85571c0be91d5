// A 128-bit checksum of a byte array, to tell a damaged artifact from a bad host. It is not a
// cryptographic hash: an artifact is code, and only a trusted source makes it safe (README).
// SHA-256 through SubtleCrypto took 135 ms on a 15 MB GPT's weights here (Node copies the data
// to a thread pool); this takes 3–36 ms. Four independent 32-bit lanes each absorb every
// fourth word with xxHash32's round (add input × P2, rotate, × P1): each step is a bijection
// of the lane for a fixed input and of the input for a fixed lane, so a change confined to one
// word always changes the result; the length and tail are mixed in, and each lane avalanched.

const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f;
const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const round = (acc: number, input: number) => Math.imul(rotl((acc + Math.imul(input, P2)) | 0, 13), P1);
function avalanche(h: number): number {
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

/** 32 hex digits. */
export function checksum(bytes: Uint8Array): string {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes); // a copy: a Node Buffer's slice() is a view, still unaligned
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, (aligned.length >>> 4) * 4);
  let a = P1 + P2, b = P2, c = 0, d = -P1 | 0;
  for (let i = 0; i < words.length; i += 4) { // round() by hand: this loop is the whole cost
    a = (a + Math.imul(words[i]!, P2)) | 0; a = Math.imul((a << 13) | (a >>> 19), P1);
    b = (b + Math.imul(words[i + 1]!, P2)) | 0; b = Math.imul((b << 13) | (b >>> 19), P1);
    c = (c + Math.imul(words[i + 2]!, P2)) | 0; c = Math.imul((c << 13) | (c >>> 19), P1);
    d = (d + Math.imul(words[i + 3]!, P2)) | 0; d = Math.imul((d << 13) | (d >>> 19), P1);
  }
  let tail = P4;
  for (let i = words.length * 4; i < aligned.length; i++) tail = Math.imul(rotl(tail ^ Math.imul(aligned[i]!, P3), 11), P1);
  const n = aligned.length;
  const lanes = [a, b, c, d].map((h, k) => avalanche(round(h ^ tail, n + k * P3)));
  // Each lane also sees the others, so the four words of the result all depend on every byte.
  const mixed = lanes.map((h, k) => avalanche(h + rotl(lanes[(k + 1) % 4]!, 7) + rotl(lanes[(k + 2) % 4]!, 19)));
  return mixed.map((h) => h.toString(16).padStart(8, '0')).join('');
}
