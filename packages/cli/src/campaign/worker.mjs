// The piscina worker entry: the trial runner, the CLI image's trial entry (bin/cli-image.mjs).
import { cli_entry } from '../../bin/cli-image.mjs';

const { default: runTask } = await cli_entry('trial');
export default runTask;
