/**
 * The seeded randomness behind initial latents, stochastic scheduler noise and
 * the fixture model's weights. Documented so a seed means the same image
 * everywhere this engine runs:
 *
 * - uniform source: mulberry32 (Tommy Ettinger, public domain), 32-bit state
 *   initialised to `seed mod 2^32`;
 * - standard normal: Box–Muller on consecutive pairs (u1 = (a + 1) / 2^32 in
 *   (0, 1], u2 = b / 2^32), emitting r·cos(2πu2) then r·sin(2πu2).
 *
 * Plain JS doubles and V8's fdlibm-derived Math make this bit-stable.
 */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    // ToUint32 is exact modular reduction for any safe integer.
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }
}

/** Standard normal samples from one seed, in a fixed documented order. */
export class GaussianNoise {
  private readonly uniform: Mulberry32;
  private spare: number | null = null;

  constructor(seed: number) {
    this.uniform = new Mulberry32(seed);
  }

  next(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = (this.uniform.nextUint32() + 1) / 4294967296;
    const u2 = this.uniform.nextUint32() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Fills `out` (or a new array of `length`) with the next samples. */
  fill(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.next();
    return out;
  }
}
