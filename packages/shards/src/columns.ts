import {
  Field,
  Float64,
  Int32,
  Int64,
  List,
  Uint16,
  Uint32,
  Uint8,
  Utf8,
  makeData,
  type Data,
} from 'apache-arrow';

/**
 * Column builders that fill typed arrays directly (offsets + values + validity bits), so writing a batch never
 * goes through arrays of JS objects per value. Each builder is reused across batches: `finish()` hands out views
 * of its buffers, which stay valid until the next `reset()` (the shard writer writes them to disk before that).
 */

type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array | BigInt64Array;
type TypedArrayCtor<T extends TypedArray> = { new (length: number): T };

class Growable<T extends TypedArray> {
  buf: T;
  length = 0;
  constructor(private readonly Ctor: TypedArrayCtor<T>, capacity = 1024) {
    this.buf = new Ctor(capacity);
  }
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new this.Ctor(cap);
    (next as Uint8Array).set(this.buf as unknown as Uint8Array);
    this.buf = next;
  }
  view(): T {
    return this.buf.subarray(0, this.length) as T;
  }
}

/** Validity bitmap (LSB order, 1 = valid), allocated only once a null appears. */
class Validity {
  private bits = new Growable(Uint8Array, 128);
  nullCount = 0;
  private length = 0;
  push(valid: boolean): void {
    const byte = this.length >> 3;
    if ((this.length & 7) === 0) {
      this.bits.reserve(1);
      this.bits.buf[byte] = 0;
      this.bits.length = byte + 1;
    }
    if (valid) this.bits.buf[byte]! |= 1 << (this.length & 7);
    else this.nullCount++;
    this.length++;
  }
  bitmap(): Uint8Array | undefined {
    return this.nullCount === 0 ? undefined : this.bits.view();
  }
  reset(): void {
    this.bits.length = 0;
    this.nullCount = 0;
    this.length = 0;
  }
}

const encoder = new TextEncoder();

export class Utf8Builder {
  private offsets = new Growable(Int32Array, 1024);
  private values = new Growable(Uint8Array, 1 << 16);
  private validity = new Validity();
  rows = 0;
  constructor() {
    this.offsets.buf[0] = 0;
    this.offsets.length = 1;
  }
  /** Appends a string (or null) and returns its UTF-8 byte length. */
  push(value: string | null): number {
    this.offsets.reserve(1);
    let n = 0;
    if (value !== null) {
      // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
      this.values.reserve(value.length * 3);
      n = encoder.encodeInto(value, this.values.buf.subarray(this.values.length)).written;
      this.values.length += n;
      if (this.values.length > 0x7fffffff) throw new RangeError('Utf8Builder: a batch holds more than 2 GiB of text');
    }
    this.validity.push(value !== null);
    this.offsets.buf[this.offsets.length++] = this.values.length;
    this.rows++;
    return n;
  }
  get byteLength(): number {
    return this.values.length;
  }
  finish(): Data<Utf8> {
    return makeData({
      type: new Utf8(),
      length: this.rows,
      nullCount: this.validity.nullCount,
      nullBitmap: this.validity.bitmap(),
      valueOffsets: this.offsets.view(),
      data: this.values.view(),
    });
  }
  reset(): void {
    this.offsets.length = 1;
    this.values.length = 0;
    this.validity.reset();
    this.rows = 0;
  }
}

/** Nullable 64-bit numbers (int64 or float64 columns); a null is stored as 0 with its validity bit cleared. */
abstract class Number64Builder<T extends Int64 | Float64, A extends BigInt64Array | Float64Array> {
  private validity = new Validity();
  constructor(
    private readonly values: Growable<A>,
    private readonly type: () => T,
    private readonly store: (buf: A, at: number, value: number | null) => void,
  ) {}
  push(value: number | null): void {
    this.values.reserve(1);
    this.store(this.values.buf, this.values.length++, value);
    this.validity.push(value !== null);
  }
  finish(): Data<T> {
    // One body for both types; makeData's overloads cannot be picked for a generic T.
    return makeData({
      type: this.type(),
      length: this.values.length,
      nullCount: this.validity.nullCount,
      nullBitmap: this.validity.bitmap(),
      data: this.values.view(),
    } as never) as unknown as Data<T>;
  }
  reset(): void {
    this.values.length = 0;
    this.validity.reset();
  }
}

export class Int64Builder extends Number64Builder<Int64, BigInt64Array> {
  constructor() {
    super(new Growable(BigInt64Array, 1024), () => new Int64(), (buf, at, value) => (buf[at] = value === null ? 0n : BigInt(value)));
  }
}

export class Float64Builder extends Number64Builder<Float64, Float64Array> {
  constructor() {
    super(new Growable(Float64Array, 1024), () => new Float64(), (buf, at, value) => (buf[at] = value === null ? 0 : value));
  }
}

export type ListValueType = Uint8 | Uint16 | Uint32 | Int32;
type ValuesOf<T extends ListValueType> = T extends Uint8 ? Uint8Array : T extends Uint16 ? Uint16Array : T extends Uint32 ? Uint32Array : Int32Array;

/** List<T> of a fixed-width integer type, appended one typed array at a time. */
export class ListBuilder<T extends ListValueType> {
  private offsets = new Growable(Int32Array, 1024);
  private values: Growable<ValuesOf<T>>;
  private validity = new Validity();
  rows = 0;
  constructor(readonly valueType: T) {
    this.values = new Growable(valueType.ArrayType as unknown as TypedArrayCtor<ValuesOf<T>>, 1 << 16);
    this.offsets.buf[0] = 0;
    this.offsets.length = 1;
  }
  static type<T extends ListValueType>(valueType: T): List<T> {
    return new List(new Field('item', valueType, false));
  }
  /** Appends one list; the values are converted to the column's type (callers check their range first). */
  push(values: ArrayLike<number> | null): void {
    this.offsets.reserve(1);
    if (values !== null) {
      this.values.reserve(values.length);
      (this.values.buf as unknown as Int32Array).set(values, this.values.length);
      this.values.length += values.length;
      if (this.values.length > 0x7fffffff) throw new RangeError('ListBuilder: a batch holds more than 2^31 values');
    }
    this.validity.push(values !== null);
    this.offsets.buf[this.offsets.length++] = this.values.length;
    this.rows++;
  }
  get valueCount(): number {
    return this.values.length;
  }
  finish(): Data<List<T>> {
    const child = makeData({ type: this.valueType, length: this.values.length, nullCount: 0, data: this.values.view() } as never) as unknown as Data<T>;
    return makeData({
      type: ListBuilder.type(this.valueType),
      length: this.rows,
      nullCount: this.validity.nullCount,
      nullBitmap: this.validity.bitmap(),
      valueOffsets: this.offsets.view(),
      child,
    });
  }
  reset(): void {
    this.offsets.length = 1;
    this.values.length = 0;
    this.validity.reset();
    this.rows = 0;
  }
}

export { Uint8, Uint16, Uint32, Int32 };
