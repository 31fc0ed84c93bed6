// The piscina worker entry: the trial runner from the CLI image (bin/cli-image.mjs), or its TypeScript through tsx where no image can be written.
import { cli_image } from '../../bin/cli-image.mjs';

const image = await cli_image();
let runTask;
if (image) {
  ({ default: runTask } = await import(image.trial));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ default: runTask } = await import('./trial.ts'));
}
export default runTask;
