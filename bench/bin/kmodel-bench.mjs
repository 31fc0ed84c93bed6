#!/usr/bin/env node
// The benchmark program: TypeScript sources run through tsx, as the kmodel command's are.
import { register } from 'tsx/esm/api';

register();
await import('../main.ts');
