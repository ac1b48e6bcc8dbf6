import { expect, it } from 'vitest';
import { generateRequestSchema } from '../../contract';
it('parses', () => { expect(generateRequestSchema.safeParse({prompt:'a', seed: 1}).success).toBe(true); });
