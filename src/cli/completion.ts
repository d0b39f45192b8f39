// `meridian completion bash|zsh|fish`: a script generated from the commander tree, so it names
// every command, subcommand and option the CLI declares.
import { Argument, type Command, Help } from 'commander';

interface Node {
  /** Command words after `meridian`, space-separated ('' for meridian itself). */
  path: string;
  commands: { name: string; description: string }[];
  options: { flags: string[]; description: string; takesValue: boolean }[];
}

function walk(cmd: Command, path: string, help: Help, out: Node[]): Node[] {
  const commands = help.visibleCommands(cmd).filter((c) => c.name() !== 'help');
  out.push({
    path,
    commands: commands.map((c) => ({ name: c.name(), description: c.description() })),
    options: help.visibleOptions(cmd).map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => Boolean(f)),
      description: o.description,
      takesValue: o.required || o.optional,
    })),
  });
  for (const c of commands) walk(c, path ? `${path} ${c.name()}` : c.name(), help, out);
  return out;
}

const words = (list: string[]) => list.join(' ');
const quoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
/** fish's own single quotes: \' and \\ are escapes inside them. */
const fishQuoted = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function bashScript(program: Command): string {
  const nodes = walk(program, '', new Help(), []);
  // A word that names a subcommand of the path so far moves down the tree; any other word (an option, its value) does not.
  const descend = nodes.flatMap((n) => n.commands.map((c) => quoted(`${n.path}|${c.name}`)));
  const cases = nodes.map((n) => {
    const valued = n.options.filter((o) => o.takesValue).flatMap((o) => o.flags);
    return [
      `    ${quoted(n.path)})`,
      `      commands=${quoted(words(n.commands.map((c) => c.name)))}`,
      `      options=${quoted(words(n.options.flatMap((o) => o.flags)))}`,
      `      valued=${quoted(` ${words(valued)} `)} ;;`,
    ].join('\n');
  });
  return `# meridian completion for bash: source it, or save it as /etc/bash_completion.d/meridian
_meridian() {
  local cur prev path="" word i commands options valued
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$path|$word" in
      ${descend.join('|')}) path="\${path:+$path }$word" ;;
    esac
  done
  case "$path" in
${cases.join('\n')}
  esac
  if [[ "$valued" == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
  fi
}
complete -o default -F _meridian meridian
`;
}

export function zshScript(program: Command): string {
  return `#compdef meridian
# meridian completion for zsh: the bash completion through zsh's bashcompinit.
autoload -U +X bashcompinit && bashcompinit
${bashScript(program)}`;
}

export function fishScript(program: Command): string {
  const nodes = walk(program, '', new Help(), []);
  const descend = nodes.flatMap((n) => n.commands.map((c) => fishQuoted(`${n.path}|${c.name}`)));
  const lines = [
    '# meridian completion for fish: save it as ~/.config/fish/completions/meridian.fish',
    'function __meridian_path',
    '    set -l path ""',
    '    for word in (commandline -opc)[2..-1]',
    `        if contains -- "$path|$word" ${descend.join(' ')}`,
    '            set path (string trim -- "$path $word")',
    '        end',
    '    end',
    '    echo $path',
    'end',
    'complete -c meridian -f',
  ];
  for (const n of nodes) {
    const when = `-n ${fishQuoted(`test (__meridian_path) = ${fishQuoted(n.path)}`)}`;
    for (const c of n.commands)
      lines.push(`complete -c meridian ${when} -a ${c.name} -d ${fishQuoted(c.description)}`);
    for (const o of n.options) {
      const names = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`));
      lines.push(
        `complete -c meridian ${when} ${names.join(' ')}${o.takesValue ? ' -r -F' : ''} -d ${fishQuoted(o.description)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

const SCRIPTS = { bash: bashScript, zsh: zshScript, fish: fishScript };

export function registerCompletion(program: Command) {
  program
    .command('completion')
    .description('print a shell completion script: eval "$(meridian completion bash)"')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(Object.keys(SCRIPTS)))
    .action((shell: keyof typeof SCRIPTS) => {
      process.stdout.write(SCRIPTS[shell](program));
    });
}
