/**
 * Child process for the concurrency test: writes N tags into one layout as fast as it can.
 * Usage: tsx tag-writer.fixture.ts LAYOUT PREFIX COUNT
 */
import { LayoutTarget } from '../../modules/oci/index.js';
import { pushImage, sampleImage } from './fixtures.js';

const [layoutPath, prefix, count] = process.argv.slice(2);
const layout = new LayoutTarget(layoutPath!);
for (let i = 0; i < Number(count); i++) {
  const image = sampleImage([64], `${prefix}-${i}`);
  await pushImage(layout, image, `${prefix}-${i}`);
}
