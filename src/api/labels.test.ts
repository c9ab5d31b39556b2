import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseLabelSelector, labelSelectorFromObject, selectorFromSet, everything, nothing, matchesNothing,
  formatLabels, formatLabelSelector, newRequirement,
} from './labels.js';
import { StatusError } from './status.js';

const KEY_REGEX_DETAIL = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_REGEX_DETAIL = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

function badRequestMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    return e.message;
  }
  assert.fail('expected an error');
}

test('parses every operator and prints the canonical form', () => {
  const cases: Array<[string, string]> = [
    ['x=a', 'x=a'],
    ['x==a', 'x==a'],
    ['x!=a', 'x!=a'],
    ['x in (b,a)', 'x in (a,b)'],
    ['x notin (a)', 'x notin (a)'],
    ['x', 'x'],
    ['!x', '!x'],
    ['x>1', 'x>1'],
    ['x<10', 'x<10'],
    ['x=', 'x='],
    ['x=a,y=b,z=c', 'x=a,y=b,z=c'],
    // Sorted by key; set values deduplicated and sorted; empty entries are the empty string.
    ['z=c,y notin (b,b),x in (foo,,baz)', 'x in (,baz,foo),y notin (b),z=c'],
    ['z notin ()', 'z notin ()'],
    ['  x  =  a , y in ( b , c ) ,!w ', '!w,x=a,y in (b,c)'],
    // `in`/`notin` are plain values inside a set.
    ['x in (in,notin)', 'x in (in,notin)'],
    ['example.com/app=web', 'example.com/app=web'],
    ['', ''],
  ];
  for (const [input, canonical] of cases) assert.equal(parseLabelSelector(input).toString(), canonical, input);
});

test('matches each operator against labels', () => {
  const labels = { app: 'web', tier: 'front', n: '5', empty: '' };
  const yes = ['app=web', 'app==web', 'app!=db', 'missing!=x', 'app in (db,web)', 'app notin (db)', 'missing notin (x)',
    'app', '!missing', 'n>4', 'n<6', 'empty=', 'empty', 'app=web,tier=front', ''];
  const no = ['app=db', 'missing=x', 'app!=web', 'app in (db)', 'missing in (x)', 'app notin (web)', 'missing', '!app',
    'n>5', 'n<5', 'app>1', 'missing>1', 'app=web,tier=back', 'empty!='];
  for (const s of yes) assert.equal(parseLabelSelector(s).matches(labels), true, s);
  for (const s of no) assert.equal(parseLabelSelector(s).matches(labels), false, s);
  assert.equal(parseLabelSelector('!app').matches(undefined), true);
  assert.equal(parseLabelSelector('app').matches(undefined), false);
});

test('bad selectors give upstream\'s messages', () => {
  const cases: Array<[string, string]> = [
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    ['a,,b', "found ',', expected: identifier after ','"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['x=(a)', "unable to parse requirement: found '(', expected: identifier"],
    ['x in a', "unable to parse requirement: found 'a' expected: '('"],
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ['x in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['x=a b', "found 'b', expected: ',' or 'end of string'"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    ['Foo_=bar', `unable to parse requirement: <nil>: Invalid value: "Foo_": ${KEY_REGEX_DETAIL}`],
    ['x=a||b', `unable to parse requirement: values[0][x]: Invalid value: "a||b": ${VALUE_REGEX_DETAIL}`],
    ['x>a', `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['x<-1', `unable to parse requirement: values[0][x]: Invalid value: "-1": ${VALUE_REGEX_DETAIL}`],
    ['/a=b', 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'],
  ];
  for (const [input, message] of cases) assert.equal(badRequestMessage(() => parseLabelSelector(input)), message, input);
  const long = 'a'.repeat(64);
  assert.equal(badRequestMessage(() => parseLabelSelector(`x=${long}`)),
    `unable to parse requirement: values[0][x]: Invalid value: "${long}": must be no more than 63 characters`);
  assert.equal(badRequestMessage(() => parseLabelSelector('a/b/c')),
    `unable to parse requirement: <nil>: Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`);
});

test('LabelSelector objects convert as metav1.LabelSelectorAsSelector', () => {
  assert.equal(matchesNothing(labelSelectorFromObject(undefined)), true);
  assert.equal(labelSelectorFromObject(undefined).matches({ a: 'b' }), false);
  assert.equal(labelSelectorFromObject({}).empty(), true);
  assert.equal(labelSelectorFromObject({}).matches({ a: 'b' }), true);

  const sel = labelSelectorFromObject({
    matchLabels: { tier: 'front', app: 'web' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'dev'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'zone', operator: 'NotIn', values: ['b'] },
      { key: 'owner', operator: 'Exists' },
    ],
  });
  assert.equal(sel.toString(), 'app=web,!canary,env in (dev,prod),owner,tier=front,zone notin (b)');
  assert.equal(sel.matches({ app: 'web', tier: 'front', env: 'dev', owner: 'me' }), true);
  assert.equal(sel.matches({ app: 'web', tier: 'front', env: 'dev', owner: 'me', canary: '' }), false);
  assert.equal(sel.requiresExactMatch('app'), 'web');
  assert.equal(sel.requiresExactMatch('env'), undefined);

  assert.equal(badRequestMessage(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Foo' }] })),
    '"Foo" is not a valid label selector operator');
  assert.equal(badRequestMessage(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })),
    "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty");
  assert.equal(badRequestMessage(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })),
    'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist');
  assert.equal(badRequestMessage(() => labelSelectorFromObject({ matchLabels: { 'Bad Key': 'x y' } })),
    `[key: Invalid value: "Bad Key": ${KEY_REGEX_DETAIL}, values[0][Bad Key]: Invalid value: "x y": ${VALUE_REGEX_DETAIL}]`);
});

test('sets, everything, nothing and the printers kubectl shows', () => {
  assert.equal(selectorFromSet({ b: '2', a: '1' }).toString(), 'a=1,b=2');
  assert.equal(selectorFromSet({}).empty(), true);
  assert.equal(everything().matches({}), true);
  assert.equal(everything().toString(), '');
  assert.equal(nothing().matches({}), false);
  assert.equal(nothing().empty(), false);
  assert.equal(formatLabels({ run: 'web', app: 'x' }), 'app=x,run=web');
  assert.equal(formatLabels(undefined), '<none>');
  assert.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web');
  assert.equal(formatLabelSelector(undefined), '<none>');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), '<error>');
  assert.deepEqual(newRequirement('a', 'in', ['y', 'x']), { key: 'a', operator: 'in', values: ['y', 'x'] });
  assert.equal(parseLabelSelector('a=b').requirements()?.length, 1);
  assert.equal(nothing().requirements(), undefined);
});
