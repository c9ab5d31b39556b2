/** Protobuf wire format: just what decoding Kubernetes objects needs. */

export const WireType = { Varint: 0, Fixed64: 1, Bytes: 2, Fixed32: 5 } as const;

/** A malformed message; decode.ts turns it into a 400 with the path where it happened. */
export class WireError extends Error {}

export class Reader {
  pos: number;

  constructor(readonly buf: Buffer, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  get done(): boolean { return this.pos >= this.end; }

  /**
   * An unsigned varint: a number while it fits a double exactly, else a BigInt
   * of its 64 bits (negative int32/int64 values are sent as 10-byte varints).
   */
  varint(): number | bigint {
    let value = 0;
    for (let shift = 0; shift < 49; shift += 7) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const byte = this.buf[this.pos++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    let big = BigInt(value);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const byte = this.buf[this.pos++];
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, big);
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** A varint used as a length or a tag, where only a small value makes sense. */
  size(): number {
    const v = this.varint();
    if (typeof v !== 'number') throw new WireError('length out of range');
    return v;
  }

  tag(): { field: number; wire: number } {
    const tag = this.size();
    const field = Math.floor(tag / 8);
    if (field === 0) throw new WireError('field number 0');
    return { field, wire: tag & 7 };
  }

  /** The body of a length-delimited field, as a window on the same buffer. */
  bytes(): { start: number; end: number } {
    const len = this.size();
    const start = this.pos;
    if (len > this.end - start) throw new WireError('length-delimited field runs past the end of its message');
    this.pos = start + len;
    return { start, end: this.pos };
  }

  fixed64(): Buffer {
    if (this.end - this.pos < 8) throw new WireError('truncated 64-bit field');
    this.pos += 8;
    return this.buf.subarray(this.pos - 8, this.pos);
  }

  skip(wire: number): void {
    switch (wire) {
      case WireType.Varint: this.varint(); return;
      case WireType.Fixed64: this.fixed64(); return;
      case WireType.Bytes: this.bytes(); return;
      case WireType.Fixed32:
        if (this.end - this.pos < 4) throw new WireError('truncated 32-bit field');
        this.pos += 4;
        return;
      default: throw new WireError(`unsupported wire type ${wire}`);
    }
  }
}

export function toInt32(v: number | bigint): number {
  return typeof v === 'number' ? v | 0 : Number(BigInt.asIntN(32, v));
}

export function toInt64(v: number | bigint): number {
  if (typeof v === 'number') return v;
  const signed = BigInt.asIntN(64, v);
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new WireError(`int64 value ${signed} cannot be represented exactly in JSON`);
  }
  return Number(signed);
}
