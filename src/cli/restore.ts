import type { Command } from 'commander';
import { registerMove } from './evacuate.js';

export const registerRestore = (program: Command) => registerMove(program, 'restore');
