/**
 * Project Gutenberg plain-text books: the licence header and footer are cut at their marker lines and title,
 * author and language are read from the header. Markers follow the variants real files use, old and new (the list
 * of the `gutenberg` Python package's strip_headers, which learnt them from the whole PG collection): a start marker
 * counts within the first 600 lines, the end marker is the first one after the start.
 */

const START_MARKERS: readonly RegExp[] = [
  /^\s*\*{2,}\s*START OF (THE|THIS) PROJECT GUTENBERG/i,
  /^\s*\*{2,}\s*START OF THE COPYRIGHTED/i,
  /^\*END\*?\s*THE SMALL PRINT/i,
  /^\s*\*+\s*SMALL PRINT!.*\*END\*/i,
];

const END_MARKERS: readonly RegExp[] = [
  /^\s*\*{2,}\s*END OF (THE|THIS) PROJECT GUTENBERG/i,
  /^\s*\*{2,}\s*END OF THE COPYRIGHTED/i,
  /^\s*End of (the |this )?Project Gutenberg/i, // also "End of Project Gutenberg's …", "END OF PROJECT GUTENBERG"
  /^\s*End of this is COPYRIGHTED/i,
  /^\s*Ende diese[sn]? (Project|Projekt) Gutenber/i,
  /^\s*Ende dieses Etextes/i,
  /^\s*Fin (de|du) (ce )?(Project|Projet) Gutenberg/i,
  /^\s*Ce document fut pr[eé]sent[eé] en lecture/i,
  /^\*\*This is a COPYRIGHTED Project Gutenberg Etext, Details Above\*\*/i,
];

/** Credit lines PG puts right after the start marker; not part of the book. */
const CREDIT = /^\s*(Produced by|E-?text prepared by|This e-?(text|book) was (prepared|produced) by|Transcribed (from|by)|Prepared by|Scanned by)\b/i;
const CREDIT_CONTINUATION = /(Proofread|Distributed|Internet Archive|https?:\/\/|www\.|pgdp|\bTeam\b|Libraries\)|Google|images)/i;

const LANGUAGES: Readonly<Record<string, string>> = {
  english: 'en', french: 'fr', german: 'de', spanish: 'es', italian: 'it', portuguese: 'pt', dutch: 'nl', finnish: 'fi',
  swedish: 'sv', danish: 'da', norwegian: 'no', icelandic: 'is', latin: 'la', greek: 'el', 'ancient greek': 'grc',
  russian: 'ru', polish: 'pl', czech: 'cs', hungarian: 'hu', esperanto: 'eo', catalan: 'ca', chinese: 'zh',
  japanese: 'ja', korean: 'ko', tagalog: 'tl', welsh: 'cy', irish: 'ga', hebrew: 'he', arabic: 'ar', romanian: 'ro',
  bulgarian: 'bg', serbian: 'sr', croatian: 'hr', slovenian: 'sl', ukrainian: 'uk', turkish: 'tr', afrikaans: 'af',
  galician: 'gl', basque: 'eu', occitan: 'oc', friulian: 'fur', 'middle english': 'enm', 'old english': 'ang',
};

/** ISO 639 code for a language name as PG headers write it ("English", "French"); other values are kept as given. */
export function languageCode(name: string): string {
  const key = name.trim().toLowerCase();
  return LANGUAGES[key] ?? (/^[a-z]{2,3}$/.test(key) ? key : name.trim());
}

export interface GutenbergBook {
  /** True when a PG start or end marker was found. */
  readonly gutenberg: boolean;
  /** The body: between the markers, credit lines after the start marker removed. */
  readonly text: string;
  readonly title?: string;
  readonly author?: string;
  readonly language?: string;
  /** The PG ebook number, when the header gives it. */
  readonly ebook?: number;
}

/** Reads a `Field: value` header entry, with continuation lines indented under it. */
function headerField(lines: readonly string[], name: string): string | undefined {
  const re = new RegExp(`^${name}:\\s*(.*)$`, 'i');
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i]!);
    if (!m) continue;
    const parts = [m[1]!.trim()];
    for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]!); j++) parts.push(lines[j]!.trim());
    const value = parts.join(' ').trim();
    if (value) return value;
  }
  return undefined;
}

/** Splits a text (LF line ends) into the PG header, body and footer and reads the header's metadata. */
export function parseGutenberg(text: string): GutenbergBook {
  const lines = text.split('\n');
  let start = -1;
  for (let i = 0; i < Math.min(lines.length, 600); i++) {
    if (START_MARKERS.some((re) => re.test(lines[i]!))) start = i;
  }
  let end = -1;
  for (let i = start + 1; i < lines.length; i++) {
    if (END_MARKERS.some((re) => re.test(lines[i]!))) {
      end = i;
      break;
    }
  }
  if (start === -1 && end === -1) return { gutenberg: false, text };
  const header = lines.slice(0, start === -1 ? Math.min(lines.length, 100) : start);
  let bodyStart = start + 1;
  // Skip the credit paragraph ("Produced by …") that follows the start marker.
  while (bodyStart < lines.length && lines[bodyStart]!.trim() === '') bodyStart++;
  if (start !== -1 && bodyStart < lines.length && CREDIT.test(lines[bodyStart]!)) {
    let j = bodyStart + 1;
    while (j < lines.length && j < bodyStart + 4 && lines[j]!.trim() !== '') j++;
    const blankFollows = j < lines.length && lines[j]!.trim() === '';
    if (blankFollows) bodyStart = j;
    else {
      // No blank line after it (files whose blank lines were removed): drop only lines that continue the credit.
      bodyStart++;
      while (bodyStart < lines.length && CREDIT_CONTINUATION.test(lines[bodyStart]!) && lines[bodyStart]!.length < 100) bodyStart++;
    }
  }
  const body = lines.slice(start === -1 ? 0 : bodyStart, end === -1 ? lines.length : end).join('\n');

  let title = headerField(header, 'Title');
  let author = headerField(header, 'Author');
  const language = headerField(header, 'Language');
  const ebookMatch = /\[E-?Book #(\d+)\]/i.exec(header.join('\n'));
  // Older headers may lack the fields; their first paragraph reads "Project Gutenberg's <title>, by <author>"
  // and newer ones "The Project Gutenberg eBook of <title>, by <author>".
  if (!title || !author) {
    const firstPara = header.join('\n').replace(/^\uFEFF/, '').split(/\n\s*\n/)[0]!.replace(/\s+/g, ' ');
    const m = /^(?:The )?Project Gutenberg(?:'s| E-?Book of| E-?text of)\s+(.+?)(?:,\s+by\s+(.+?))?(?:\s+This e-?(?:Book|text) is for the use.*)?$/i.exec(firstPara.trim());
    if (m) {
      title ??= m[1]!.trim();
      if (m[2]) author ??= m[2].trim();
    }
  }
  return {
    gutenberg: true,
    text: body,
    ...(title ? { title } : {}),
    ...(author ? { author } : {}),
    ...(language ? { language: languageCode(language.split(/[,;]| and /)[0]!) } : {}),
    ...(ebookMatch ? { ebook: Number(ebookMatch[1]) } : {}),
  };
}
