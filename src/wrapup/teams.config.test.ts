import { describe, expect, it } from 'vitest';
import { DEFAULT_WRAP_UP_CODES, TeamsConfig } from './teams.config.js';

describe('TeamsConfig wrap-up codes', () => {
  const cfg = new TeamsConfig({
    default: { wrapUpCodes: ['done', 'callback'] },
    teams: { sales: { wrapUpCodes: ['sale', 'no-sale', 'callback'] }, support: {} },
  });

  it('an agent in several teams gets every code of their teams once, in file order', () => {
    expect(cfg.wrapUpCodes(['sales', 'support'])).toEqual(['sale', 'no-sale', 'callback', 'done']);
  });

  it('a team without codes, an unknown team and no team at all get the default codes', () => {
    expect(cfg.wrapUpCodes(['support'])).toEqual(['done', 'callback']);
    expect(cfg.wrapUpCodes(['marketing'])).toEqual(['done', 'callback']);
    expect(cfg.wrapUpCodes([])).toEqual(['done', 'callback']);
  });

  it('without a file everyone gets the built-in codes', () => {
    expect(new TeamsConfig().wrapUpCodes(['x'])).toEqual([...DEFAULT_WRAP_UP_CODES]);
  });

  it('a bad code in the file is refused at start with its path', () => {
    expect(() => new TeamsConfig({ teams: { sales: { wrapUpCodes: ['no spaces'] } } })).toThrow(
      /TEAMS_FILE: teams\.sales\.wrapUpCodes\.0/,
    );
    expect(() => new TeamsConfig({ teams: { sales: { wrapUpCodes: [] } } })).toThrow(/TEAMS_FILE/);
  });
});
