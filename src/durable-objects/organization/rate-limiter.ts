/**
 * Token buckets held in the organization's object. The object is the only writer for its
 * organization, so the count is exact (unlike the edge rate-limit binding, which is
 * per location and eventually consistent).
 */
export class TokenBucket {
  private tokens: number
  private updatedMs: number

  constructor(
    private ratePerSecond: number,
    private burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.updatedMs = now
  }

  /** Applies new limits, keeping the tokens already earned. */
  configure(ratePerSecond: number, burst: number): void {
    this.ratePerSecond = ratePerSecond
    this.burst = burst
    this.tokens = Math.min(this.tokens, burst)
  }

  private refill(now: number): void {
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.updatedMs) / 1000) * this.ratePerSecond,
    )
    this.updatedMs = now
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.refill(now)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Tokens available now, whole. */
  available(now: number): number {
    this.refill(now)
    return Math.floor(this.tokens)
  }

  /** Milliseconds until one token is available. */
  waitMs(now: number): number {
    this.refill(now)
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000)
  }
}
