// The piscina worker entry: TypeScript through tsx (as bin/kmodel.mjs does), then the trial runner.
import { register } from 'tsx/esm/api';

register();
const { default: runTask } = await import('./trial.ts');
export default runTask;
