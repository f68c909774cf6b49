using System.CommandLine;
using System.CommandLine.Completions;

namespace NicScript.Host.Cli;

/// <summary><c>nicscript completion bash|zsh</c>: prints the shell glue that completes commands, options, option values and
/// manifest paths by asking nicscript itself.</summary>
/// <remarks>
/// Design: System.CommandLine answers <c>nicscript [suggest:POS] "LINE"</c> with one candidate a line (the directive
/// <c>dotnet-suggest</c> uses), from the same command tree that parses, so the completions cannot drift from the program.
/// The glue only builds LINE from the words typed so far, keeps the candidates that start with the word under the cursor
/// (the directive also offers those that merely contain it) and drops the help aliases <c>-?</c>, <c>/?</c>, <c>/h</c>.
/// With no candidate the shell falls back to its own file completion (for <c>--pcap FILE</c> and the like). Arguments and
/// options that name a YAML file complete folders and <c>*.yml</c>/<c>*.yaml</c> (<see cref="YamlPaths"/>).
/// </remarks>
public static class CompletionCommand
{
    public static Command Build(CliContext cli)
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh." };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var cmd = new Command("completion", """
            Print a shell completion script for nicscript: commands, options, option values and manifest paths.

            Examples:
              source <(nicscript completion bash)                 # this shell; add the line to ~/.bashrc to keep it
              mkdir -p ~/.zfunc && nicscript completion zsh > ~/.zfunc/_nicscript   # with fpath+=(~/.zfunc) before compinit in ~/.zshrc
            """)
        { shell };
        cmd.SetAction(p =>
        {
            cli.OutputText.Write(p.GetValue(shell) == "zsh" ? Zsh : Bash);
            return 0;
        });
        return cmd;
    }

    /// <summary>The bash glue: <c>complete -F</c> with a function that asks <c>nicscript [suggest:N]</c>.</summary>
    public const string Bash = """
        # bash completion for nicscript (nicscript completion bash)
        _nicscript_complete()
        {
            local cur="${COMP_WORDS[COMP_CWORD]}" cmd="${COMP_WORDS[0]/#\~/$HOME}" line="nicscript" i item
            for ((i = 1; i <= COMP_CWORD; i++)); do line+=" ${COMP_WORDS[i]}"; done
            COMPREPLY=()
            while IFS= read -r item; do
                case "$item" in '' | '-?' | '/?' | '/h') continue ;; esac
                [[ "$item" == "$cur"* ]] && COMPREPLY+=("$item")
            done < <("$cmd" "[suggest:${#line}]" "$line" 2>/dev/null)
            # a folder is completed further: no space after it
            if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == */ ]]; then compopt -o nospace 2>/dev/null; fi
            return 0
        }
        complete -o default -F _nicscript_complete nicscript

        """;

    /// <summary>The zsh glue: a completion function for <c>compdef</c>, also usable as an fpath file <c>_nicscript</c>.</summary>
    public const string Zsh = """
        #compdef nicscript
        # zsh completion for nicscript (nicscript completion zsh)
        _nicscript() {
            local line="nicscript" cmd="${words[1]/#\~/$HOME}" item
            local -a found folders others
            (( CURRENT > 1 )) && line+=" ${(j: :)words[2,CURRENT]}"
            found=("${(@f)$("$cmd" "[suggest:${#line}]" "$line" 2>/dev/null)}")
            for item in "${found[@]}"; do
                case "$item" in '' | '-?' | '/?' | '/h') continue ;; esac
                [[ "$item" == "${words[CURRENT]}"* ]] || continue
                if [[ "$item" == */ ]]; then folders+=("$item"); else others+=("$item"); fi
            done
            if (( ${#folders} + ${#others} == 0 )); then _files; return; fi
            (( ${#folders} )) && compadd -S '' -- "${folders[@]}"
            (( ${#others} )) && compadd -- "${others[@]}"
            return 0
        }
        if [[ "${funcstack[1]}" == _nicscript ]]; then
            _nicscript "$@"   # loaded from fpath by compinit
        else
            (( $+functions[compdef] )) || { autoload -Uz compinit && compinit; }
            compdef _nicscript nicscript
        fi

        """;

    /// <summary>Folders and YAML files that start with the word being completed (relative to the working folder, or
    /// absolute, or under <c>~/</c>); hidden entries only when the word asks for them.</summary>
    public static IEnumerable<CompletionItem> YamlPaths(CompletionContext context)
    {
        string word = context.WordToComplete;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string expanded = word.StartsWith("~/", StringComparison.Ordinal) ? home + word[1..] : word;
        int slash = expanded.LastIndexOf('/');
        string folder = slash < 0 ? "." : slash == 0 ? "/" : expanded[..slash];
        string shownFolder = slash < 0 ? "" : word[..(word.LastIndexOf('/') + 1)];
        string prefix = expanded[(slash + 1)..];
        var items = new List<CompletionItem>();
        try
        {
            foreach (FileSystemInfo entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
            {
                string name = entry.Name;
                if (!name.StartsWith(prefix, StringComparison.Ordinal) || (name.StartsWith('.') && !prefix.StartsWith('.'))) continue;
                if (entry is DirectoryInfo) items.Add(new CompletionItem(shownFolder + name + "/"));
                else if (name.EndsWith(".yml", StringComparison.Ordinal) || name.EndsWith(".yaml", StringComparison.Ordinal)) items.Add(new CompletionItem(shownFolder + name));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException or ArgumentException)
        {
            // a folder that is not there or not readable completes nothing; the shell's own completion takes over
        }
        return items.OrderBy(i => i.Label, StringComparer.Ordinal);
    }

    /// <summary>Gives every argument and option in <paramref name="root"/>'s tree that names a YAML file (a manifest, a
    /// machine file, a DPU state file) the <see cref="YamlPaths"/> completion.</summary>
    public static void AddYamlPaths(Command root)
    {
        foreach (Argument a in root.Arguments.Where(a => a.Name is "manifest" or "file")) a.CompletionSources.Add(YamlPaths);
        foreach (Option o in root.Options.Where(o => o.Name is "--manifest" or "--machine")) o.CompletionSources.Add(YamlPaths);
        foreach (Command sub in root.Subcommands) AddYamlPaths(sub);
    }
}
