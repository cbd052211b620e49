import { describe, expect, it } from 'vitest';
import { ConfigError, IGNORE_INDEX, Rng, composeObjectives, type Example } from '@pretext/core';
import { BYTE_SPECIAL, BYTE_VOCAB, bookDocuments, stream } from '@pretext/test-fixtures';
import { clm } from './index.js';

const docs = bookDocuments('gutenberg/markovify/sherlock.txt', 300);

async function examples(objective = clm(), seqLen = 64, special: { pad: number; eos?: number } = BYTE_SPECIAL): Promise<Example[]> {
  const out: Example[] = [];
  const ctx = { seqLen, vocabSize: BYTE_VOCAB, special, rng: new Rng(1) };
  for await (const e of objective.examples!(stream(docs), ctx)) out.push(e);
  return out;
}

/** The token stream clm should pack: every document followed by EOS. */
function expectedStream(): number[] {
  const out: number[] = [];
  for (const d of docs) out.push(...d.ids, BYTE_SPECIAL.eos);
  return out;
}

describe('clm examples', () => {
  it('declares a decoder objective that writes labels and composes alone', () => {
    const objective = clm();
    expect(objective.name).toBe('clm');
    expect(objective.architecture).toBe('decoder');
    expect(objective.writes).toEqual(['labels']);
    expect(composeObjectives([objective]).architecture).toBe('decoder');
    expect(clm({ resetAttentionMask: true, resetPositionIds: true }).writes).toEqual(['labels', 'position_ids', 'document_ids']);
  });

  it('packs documents with EOS between them, carrying across rows, labels = inputs shifted by one', async () => {
    const seqLen = 64;
    const rows = await examples(clm(), seqLen);
    const expected = expectedStream();
    // Rows overlap by one token (Megatron): row i covers stream[i·seqLen .. (i+1)·seqLen].
    expect(rows.length).toBe(Math.ceil((expected.length - 1) / seqLen));
    const rebuilt: number[] = [];
    rows.forEach((row, r) => {
      const n = row.attention_mask.reduce((a, b) => a + b, 0);
      for (let i = 0; i < n; i++) {
        expect(row.input_ids[i]).toBe(expected[r * seqLen + i]);
        expect(row.labels).toBeInstanceOf(Int32Array);
        expect((row.labels as Int32Array)[i]).toBe(expected[r * seqLen + i + 1]);
        if (i + 1 < n) expect((row.labels as Int32Array)[i]).toBe(row.input_ids[i + 1]);
      }
      for (let i = n; i < seqLen; i++) {
        expect(row.input_ids[i]).toBe(BYTE_SPECIAL.pad);
        expect((row.labels as Int32Array)[i]).toBe(IGNORE_INDEX);
      }
      for (let i = 0; i < n; i++) rebuilt.push(row.input_ids[i]!);
    });
    rebuilt.push(expected.at(-1)!);
    expect(rebuilt).toEqual(expected);
    // Every row but the last is full.
    expect(rows.slice(0, -1).every((row) => row.attention_mask.every((m) => m === 1))).toBe(true);
    // Number of EOS tokens seen as inputs or final label equals the number of documents.
    expect(expected.filter((t) => t === BYTE_SPECIAL.eos).length).toBe(docs.length);
  });

  it('eodMaskLoss ignores the prediction after each EOS and nothing else', async () => {
    const plain = await examples(clm(), 64);
    const masked = await examples(clm({ eodMaskLoss: true }), 64);
    expect(masked.length).toBe(plain.length);
    let ignoredAtEos = 0;
    masked.forEach((row, r) => {
      const base = plain[r]!.labels as Int32Array;
      const labels = row.labels as Int32Array;
      for (let i = 0; i < 64; i++) {
        if (row.attention_mask[i] === 1 && row.input_ids[i] === BYTE_SPECIAL.eos) {
          expect(labels[i]).toBe(IGNORE_INDEX);
          ignoredAtEos++;
        } else {
          expect(labels[i]).toBe(base[i]);
        }
      }
    });
    expect(ignoredAtEos).toBeGreaterThan(100);
  });

  it('resets positions after each EOS and gives each document its own id', async () => {
    const rows = await examples(clm({ resetPositionIds: true, resetAttentionMask: true }), 64);
    let sawReset = 0;
    for (const row of rows) {
      const pos = row.position_ids!;
      const doc = row.document_ids!;
      expect(pos[0]).toBe(0);
      for (let i = 1; i < 64; i++) {
        const afterEos = row.input_ids[i - 1] === BYTE_SPECIAL.eos && row.attention_mask[i - 1] === 1;
        if (afterEos) {
          expect(pos[i]).toBe(0);
          expect(doc[i]).toBe(doc[i - 1]! + 1);
          sawReset++;
        } else if (row.attention_mask[i] === 1) {
          expect(pos[i]).toBe(pos[i - 1]! + 1);
          expect(doc[i]).toBe(doc[i - 1]);
        } else {
          // Padding never shares a document id with a real token.
          for (let j = 0; j < 64; j++) if (row.attention_mask[j] === 1) expect(doc[j]).not.toBe(doc[i]);
        }
      }
    }
    expect(sawReset).toBeGreaterThan(100);
  });

  it('still predicts EOS when pad equals eos (GPT-2 style tokenizers)', async () => {
    const rows = await examples(clm(), 64, { pad: BYTE_SPECIAL.eos, eos: BYTE_SPECIAL.eos });
    const plain = await examples(clm(), 64);
    let eosLabels = 0;
    rows.forEach((row, r) => {
      expect([...(row.labels as Int32Array)]).toEqual([...(plain[r]!.labels as Int32Array)]);
      for (const l of row.labels as Int32Array) if (l === BYTE_SPECIAL.eos) eosLabels++;
    });
    expect(eosLabels).toBe(docs.length);
  });

  it('fails with a ConfigError naming special.eos when the tokenizer has no EOS', async () => {
    await expect(examples(clm(), 64, { pad: 0 })).rejects.toBeInstanceOf(ConfigError);
    await expect(examples(clm(), 64, { pad: 0 })).rejects.toThrow(/special\.eos/);
  });

  it('rejects option values that are not booleans', () => {
    expect(() => clm({ eodMaskLoss: 'yes' as unknown as boolean })).toThrow(ConfigError);
  });
});
