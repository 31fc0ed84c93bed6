#!/usr/bin/env node
// The `kmodel` command: TypeScript sources run through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
