import { cronJobNameProblem, cronMatchesUtc, cronProblem, timeZoneProblem } from '../../src/model/cron';

describe('cron expressions are checked field by field as Kubernetes (robfig/cron ParseStandard) does', () => {
  test.each([
    '0 2 * * *',
    '*/15 * * * *',
    '0 9-17/2 * * mon-fri',
    '30 6 1,15 * *',
    '0 0 1 jan,JUL ?',
    '5/10 * * * *',
    '0 0 * * 0',
    '  0   3 * * SUN  ',
    '@daily', '@hourly', '@weekly', '@monthly', '@yearly', '@annually', '@midnight',
    '@every 1h30m', '@every 5m',
  ])('accepts %p', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  test.each([
    ['0 45 * * *', 'hour field \'45\' is out of range 0-23'],
    ['60 * * * *', 'minute field \'60\' is out of range 0-59'],
    ['0 0 0 * *', 'day-of-month field \'0\' is out of range 1-31'],
    ['0 0 * 13 *', 'month field \'13\' is out of range 1-12'],
    ['0 0 * * 7', 'day-of-week field \'7\' is out of range 0-6 (Sunday is 0)'],
    ['0 0 * * 1,9', 'day-of-week field \'1,9\' (part \'9\') is out of range 0-6'],
    ['0 0 * jnu *', 'month field \'jnu\' has \'jnu\', which is not a number or a month name (jan-dec); write a value from 1 to 12'],
    ['0 0 * * fri-mon', 'day-of-week field \'fri-mon\' starts at 5 after it ends at 1; write the lower bound first (ranges do not wrap around)'],
    ['*/0 * * * *', 'minute field \'*/0\' has a step of 0; use a step of at least 1'],
    ['*/x * * * *', 'minute field \'*/x\' has a step \'x\' that is not a whole number; e.g. \'*/5\''],
    ['1-2-3 * * * *', 'minute field \'1-2-3\' has more than one \'-\'; write one range such as \'1-5\''],
    ['*/5/2 * * * *', 'minute field \'*/5/2\' has more than one \'/\'; write range/step, e.g. \'*/15\''],
    ['0 1,,2 * * *', 'hour field \'1,,2\' (part \'\') has an empty value; write a number from 0 to 23'],
    ['0 2 * *', 'it has 4 fields, Kubernetes expects 5 (minute hour day-of-month month day-of-week) or a descriptor such as @daily; e.g. \'0 2 * * *\' runs at 02:00 every day'],
    ['0 0 2 * * *', 'it has 6 fields, Kubernetes expects 5 (minute hour day-of-month month day-of-week) or a descriptor such as @daily; e.g. \'0 2 * * *\' runs at 02:00 every day'],
    ['@nightly', 'unknown descriptor \'@nightly\'; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>, or five fields (minute hour day-of-month month day-of-week)'],
    ['@every 30s', '@every 30s is not a whole number of minutes; a CronJob names its runs by the scheduled minute, so use whole minutes such as @every 5m'],
    ['@every soon', '\'soon\' is not a duration; write @every with a Go duration such as @every 1h30m'],
    ['TZ=Europe/Berlin 0 2 * * *', 'the expression names a time zone (\'TZ=Europe/Berlin\'), which Kubernetes refuses; remove it and set timeZone: \'Europe/Berlin\' instead'],
    ['CRON_TZ=UTC 0 2 * * *', 'the expression names a time zone (\'CRON_TZ=UTC\'), which Kubernetes refuses; remove it and set timeZone: \'UTC\' instead'],
  ])('refuses %p: %s', (expression, message) => {
    expect(cronProblem(expression)).toBe(message);
  });
});

describe('time zones are checked against the IANA database', () => {
  test.each(['Europe/Berlin', 'America/New_York', 'UTC', 'Etc/GMT+5', 'US/Eastern', 'Asia/Kolkata', 'Asia/Calcutta'])('accepts %p (links included)', (tz) => {
    expect(timeZoneProblem(tz)).toBeUndefined();
  });

  test.each([
    ['Mars/Olympus_Mons', 'it is not in the IANA time zone database; use a name such as \'Europe/Berlin\' or \'America/New_York\' (see https://www.iana.org/time-zones)'],
    ['+01:00', 'it is not in the IANA time zone database; use a name such as \'Europe/Berlin\' or \'America/New_York\' (see https://www.iana.org/time-zones)'],
    ['Local', 'Kubernetes refuses \'Local\' (it would be the controller\'s zone); name an IANA time zone such as \'Europe/Berlin\''],
    ['', 'it is empty; name an IANA time zone such as \'Europe/Berlin\', or leave timeZone unset for the controller\'s zone'],
    ['europe/berlin', 'Kubernetes looks time zones up case-sensitively; write it as \'Europe/Berlin\''],
    ['us/Eastern', 'Kubernetes looks time zones up case-sensitively; write it as \'America/New_York\''],
  ])('refuses %p', (tz, message) => {
    expect(timeZoneProblem(tz)).toBe(message);
  });
});

test('a CronJob name over 52 characters says by how much to shorten it', () => {
  expect(cronJobNameProblem('a'.repeat(52))).toBeUndefined();
  expect(cronJobNameProblem('a'.repeat(55))).toBe(`the CronJob name '${'a'.repeat(55)}' has 55 characters, more than 52 (its Jobs append '-<unix minutes>'); shorten it by 3`);
});

describe('when a schedule fires (read in UTC), as robfig/cron matches times', () => {
  const at = (iso: string) => new Date(`${iso}:00Z`);
  test.each([
    ['*/10 * * * *', '2026-11-27T02:20', true],
    ['*/10 * * * *', '2026-11-27T02:25', false],
    ['5/20 * * * *', '2026-11-27T02:45', true],
    ['0 2 * * *', '2026-11-27T02:00', true],
    ['0 2 * * *', '2026-11-27T03:00', false],
    ['@hourly', '2026-11-27T05:00', true],
    ['0 9-17/2 * * mon-fri', '2026-11-27T11:00', true], // a Friday
    ['0 9-17/2 * * mon-fri', '2026-11-28T11:00', false], // a Saturday
    ['0 0 1 * fri', '2026-11-27T00:00', true], // day-of-month and day-of-week both restricted: either
    ['0 0 1 * *', '2026-11-27T00:00', false],
  ])('%p at %s: %p', (expression, time, fires) => {
    expect(cronMatchesUtc(expression, at(time))).toBe(fires);
  });
});
