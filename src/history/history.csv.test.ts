import { describe, expect, it } from 'vitest';
import { csvField } from './history.csv.js';

describe('CSV fields', () => {
  it('plain text stays as it is', () => {
    expect(csvField('alice')).toBe('alice');
  });
  it('commas, quotes and line breaks are quoted, quotes doubled', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
  });
  it('text a spreadsheet would run as a formula is defused', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@sum')).toBe("'@sum");
  });
});
