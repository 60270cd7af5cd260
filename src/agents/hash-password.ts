// Prints a passwordHash for AGENTS_FILE: npm run hash-password -- 'the password'
import { hashPassword } from './directory.js';

const pw = process.argv[2];
if (!pw) {
  console.error('usage: npm run hash-password -- <password>');
  process.exit(2);
}
console.log(hashPassword(pw));
