import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Renders a vega-lite spec to SVG headless (vega's `renderer: 'none'`: no canvas or browser), as the trainer's loss.svg. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A confusion matrix as a heat map with counts: rows are the true labels, columns the predictions. */
export function renderConfusionMatrix(confusion: readonly (readonly number[])[], labelNames: readonly string[], title: string): Promise<string> {
  const values = confusion.flatMap((row, t) =>
    row.map((count, p) => ({ truth: labelNames[t]!, predicted: labelNames[p]!, count, share: count / Math.max(1, row.reduce((a, b) => a + b, 0)) })),
  );
  const size = Math.max(160, 70 * labelNames.length);
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: size,
    height: size,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: [...labelNames], title: 'predicted', axis: { labelAngle: 0 } },
      y: { field: 'truth', type: 'nominal', sort: [...labelNames], title: 'true label' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'share', type: 'quantitative', title: 'share of row', scale: { scheme: 'blues', domain: [0, 1] } } } },
      {
        mark: { type: 'text', fontSize: 14 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
  });
}
