import type { Command, Option } from 'commander';

/**
 * Makes a mistyped option (`--acount`) fail as unknown, with commander's suggestion of the right one,
 * instead of as the required option it was meant to be. Commander checks required options before
 * unknown ones, so the required options of every command are checked in a `preAction` hook instead,
 * which runs after the unknown-option check. The message is commander's own.
 */
export function reportUnknownOptionsFirst(program: Command): void {
  const required = new Map<Command, Option[]>();
  const visit = (command: Command) => {
    const options = command.options.filter((option) => option.mandatory);
    for (const option of options) option.makeOptionMandatory(false);
    if (options.length > 0) required.set(command, options);
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
  program.hook('preAction', (_program, action) => {
    for (let command: Command | null = action; command; command = command.parent) {
      for (const option of required.get(command) ?? []) {
        if (command.getOptionValue(option.attributeName()) === undefined) {
          command.error(`error: required option '${option.flags}' not specified`, {
            code: 'commander.missingMandatoryOptionValue',
          });
        }
      }
    }
  });
}
