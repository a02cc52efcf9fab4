import assert from 'node:assert/strict';
import { test } from 'node:test';

import { greet } from '../index.js';

test('greets the world by default', () => {
  assert.equal(greet(), 'Hello, world!');
});

test('greets by name', () => {
  assert.equal(greet('Ada'), 'Hello, Ada!');
});
