/** Greets someone; the test suite in test/ shows how it is used. */
export function greet(name = 'world') {
  return `Hello, ${name}!`;
}

// Run directly (`npm start`), not when imported by the tests.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(greet(process.argv[2]));
}
