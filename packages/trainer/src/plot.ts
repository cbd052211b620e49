import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface PlotRow {
  readonly step: number;
  readonly series: string;
  readonly value: number;
}

/**
 * The run's loss and learning-rate curves as an SVG (vega-lite spec, rendered headless by vega: no canvas or
 * browser needed). Top: training and validation loss against step; bottom: learning rate.
 */
export async function renderLossPlot(loss: readonly PlotRow[], lr: readonly PlotRow[], title: string): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    vconcat: [
      {
        width: 560,
        height: 260,
        data: { values: loss as PlotRow[] },
        mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: { field: 'value', type: 'quantitative', title: 'loss', scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['train', 'validation'], range: ['#4c78a8', '#e45756'] } },
        },
      },
      {
        width: 560,
        height: 110,
        data: { values: lr as PlotRow[] },
        mark: { type: 'line', color: '#54a24b' },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: { field: 'value', type: 'quantitative', title: 'learning rate', axis: { format: '.1e' } },
        },
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
