import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import chardet from 'chardet';

/**
 * Decodes an HTML payload the way a browser picks its encoding (WHATWG order): byte-order mark, then the
 * HTTP `Content-Type` charset, then a `<meta>` prescan of the first bytes, then detection (chardet) when
 * nothing is declared or a declared UTF-8 is not valid UTF-8. Decoding uses the built-in `TextDecoder`
 * (full ICU in Node: EUC-JP, Shift_JIS, GBK, Big5, KOI8-R, windows-125x, …) with WHATWG label aliases, so
 * `iso-8859-1` means windows-1252 and `gb2312` means GBK, as on the web.
 */
export interface Decoded {
  readonly text: string;
  /** The WHATWG encoding name used. */
  readonly encoding: string;
  /** Where the encoding came from. */
  readonly from: 'bom' | 'http' | 'meta' | 'detected' | 'default';
}

const META_PRESCAN_BYTES = 4096;
const META_CHARSET = /<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)/i;

export function charsetFromContentType(contentType: string | undefined): string | null {
  if (!contentType) return null;
  const m = /charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)/i.exec(contentType);
  return m ? m[1]! : null;
}

function decoderFor(label: string): TextDecoder | null {
  try {
    const decoder = new TextDecoder(label.trim().toLowerCase());
    // A page declaring UTF-16 in a <meta> is read as UTF-8 (the declaration cannot be true of ASCII bytes).
    return decoder;
  } catch {
    return null;
  }
}

export function decodeHtml(payload: Buffer, httpContentType?: string): Decoded {
  if (payload[0] === 0xef && payload[1] === 0xbb && payload[2] === 0xbf) return finish(payload.subarray(3), 'utf-8', 'bom');
  if (payload[0] === 0xff && payload[1] === 0xfe) return finish(payload.subarray(2), 'utf-16le', 'bom');
  if (payload[0] === 0xfe && payload[1] === 0xff) return finish(payload.subarray(2), 'utf-16be', 'bom');

  const declared: Array<[string, 'http' | 'meta']> = [];
  const http = charsetFromContentType(httpContentType);
  if (http) declared.push([http, 'http']);
  const head = payload.toString('latin1', 0, Math.min(payload.length, META_PRESCAN_BYTES));
  const meta = META_CHARSET.exec(head);
  if (meta) declared.push([meta[1]!, 'meta']);

  for (const [label, from] of declared) {
    const decoder = decoderFor(label);
    if (!decoder) continue;
    let encoding = decoder.encoding;
    if (encoding.startsWith('utf-16') && from === 'meta') encoding = 'utf-8';
    // Mislabelled pages are common: trust a UTF-8 label only when the bytes are UTF-8.
    if (encoding === 'utf-8' && !isUtf8(payload)) continue;
    return finish(payload, encoding, from);
  }
  if (isUtf8(payload)) return finish(payload, 'utf-8', declared.length ? 'detected' : 'default');
  const guess = chardet.detect(payload.subarray(0, 64 << 10));
  const decoder = guess ? decoderFor(guess) : null;
  if (decoder) return finish(payload, decoder.encoding, 'detected');
  return finish(payload, 'windows-1252', 'default');
}

function finish(bytes: Buffer, encoding: string, from: Decoded['from']): Decoded {
  const text = encoding === 'utf-8' ? bytes.toString('utf8') : new TextDecoder(encoding).decode(bytes);
  return { text, encoding, from };
}
