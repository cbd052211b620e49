import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX } from './documents.js';
import { ObjectiveConflictError, ObjectiveContractError } from './errors.js';
import { OBJECTIVE_CONTRACT_VERSION, collate, composeObjectives, type Example, type Objective } from './objective.js';
import { Rng } from './rng.js';

function fake(name: string, over: Partial<Objective> = {}): Objective {
  return {
    name,
    contract: OBJECTIVE_CONTRACT_VERSION,
    architecture: 'any',
    writes: [],
    head: () => ({ terms: { [name]: 1 }, counts: () => ({ [name]: 0 }), forward: () => ({ sums: {} }) }),
    options: {},
    ...over,
  };
}

function row(ids: number[]): Example {
  return { input_ids: Int32Array.from(ids), attention_mask: new Uint8Array(ids.length).fill(1) };
}

const builder: Objective['examples'] = async function* (docs) {
  for await (const d of docs) yield row(Array.from(d.ids));
};

describe('composeObjectives', () => {
  it('combines a builder with transforms in order and keeps weights', async () => {
    const a = fake('a', { examples: builder, writes: ['pair_label'] });
    const b = fake('b', { transform: (e) => ({ ...e, labels: e.input_ids.map((x) => x + 1) }), writes: ['labels'] });
    const c = composeObjectives([a, [b, 0.5]]);
    expect(c.names).toEqual(['a', 'b']);
    expect(c.objectives.map((o) => o.weight)).toEqual([1, 0.5]);
    async function* docs() {
      yield { id: 'x', ids: Int32Array.from([1, 2, 3]) };
    }
    const out: Example[] = [];
    for await (const e of c.examples(docs(), { seqLen: 3, vocabSize: 10, special: { pad: 0 }, rng: new Rng(0) })) out.push(e);
    expect(Array.from(out[0]!.labels as Int32Array)).toEqual([2, 3, 4]);
  });

  it('uses a default example source only when nobody builds', () => {
    const m = fake('m', { defaultExamples: builder });
    expect(composeObjectives([m]).examples).toBe(builder);
    const n = fake('n', { examples: async function* () {} });
    expect(composeObjectives([m, n]).examples).toBe(n.examples);
  });

  it('refuses a wrong contract version, duplicates, two builders, mixed architectures, shared columns', () => {
    expect(() => composeObjectives([{ ...fake('x'), contract: 2 as unknown as 1 }])).toThrow(ObjectiveContractError);
    expect(() => composeObjectives([fake('x', { examples: builder }), fake('x')])).toThrow(/appears twice/);
    expect(() => composeObjectives([fake('x', { examples: builder }), fake('y', { examples: builder })])).toThrow(ObjectiveConflictError);
    expect(() =>
      composeObjectives([fake('clm', { architecture: 'decoder', examples: builder }), fake('mlm', { architecture: 'encoder' })]),
    ).toThrow(/causal decoder/);
    expect(() => composeObjectives([fake('x', { examples: builder, writes: ['labels'] }), fake('y', { writes: ['labels'] })])).toThrow(
      /both write the column "labels"/,
    );
    expect(() =>
      composeObjectives([fake('x', { examples: builder, incompatible: { y: 'y predicts pairs x never builds' } }), fake('y')]),
    ).toThrow(/y predicts pairs/);
    expect(() => composeObjectives([fake('x')])).toThrow(/none of them builds examples/);
    expect(() => composeObjectives([[fake('x', { examples: builder }), -1]])).toThrow(/positive/);
  });
});

describe('collate', () => {
  it('stacks per-token and per-row columns', () => {
    const e1 = { ...row([1, 2]), labels: Int32Array.from([2, IGNORE_INDEX]), next_sentence_label: 1 };
    const e2 = { ...row([3, 4]), labels: Int32Array.from([4, IGNORE_INDEX]), next_sentence_label: 0 };
    const b = collate([e1, e2]);
    expect(b.size).toBe(2);
    expect(b.seqLen).toBe(2);
    expect(Array.from(b.columns.input_ids!)).toEqual([1, 2, 3, 4]);
    expect(b.columns.attention_mask).toBeInstanceOf(Uint8Array);
    expect(Array.from(b.columns.next_sentence_label!)).toEqual([1, 0]);
  });

  it('refuses ragged examples', () => {
    expect(() => collate([row([1, 2]), row([1])])).toThrow(/does not match/);
  });
});
