export {
  FIXTURE_SPECIAL,
  FIXTURE_BOOKS,
  sharedCorporaDir,
  gutenbergBody,
  splitSentences,
  splitWords,
  loadFixtureCorpus,
  fixtureCorpus,
  topicCorpus,
  streamDocuments,
  take,
} from './corpus.js';
export type { FixtureCorpus, FixtureCorpusOptions, TopicCorpusOptions } from './corpus.js';
export { testHeadContext, testForwardContext, batchTensors, sliceBatch } from './contexts.js';
export type { TestHeadContext, TestModelOptions } from './contexts.js';
export { describeObjectiveConformance } from './conformance.js';
export type { ConformanceOptions } from './conformance.js';
export { trainOnFixture } from './train-fixture.js';
export type { FixtureRun, FixtureRunOptions } from './train-fixture.js';
