using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Lint;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Migrations.Sets;

namespace ControlPlane.Cli.Migrations;

/// <summary>
/// <c>cpctl change lint|plan-local|rules</c>: the parts of schema changes that need no server. They read a migration
/// directory, parse it with PostgreSQL's grammar and report locally, so any CI can run them.
/// </summary>
internal static class ChangeCommands
{
    /// <summary>Lint found at least one error (warnings alone exit 0).</summary>
    public const int LintErrors = ExitCodes.Refused;

    /// <summary>The set cannot be read: missing directory, bad file name, duplicate version, malformed SQL.</summary>
    public const int UnusableSet = ExitCodes.Usage;

    public static Command Change(GlobalOptions globals, CliIo io)
    {
        var change = new Command("change", "Schema changes: lint and plan a migration set locally (no server needed); submit, approve, roll out, halt, resume and roll back change requests");
        change.Add(Lint(globals, io));
        change.Add(PlanLocal(globals, io));
        change.Add(Rules(globals, io));
        ChangeServerCommands.AddTo(change, globals, io);
        return change;
    }

    private static Command Lint(GlobalOptions globals, CliIo io)
    {
        var directory = new Argument<string>("DIR") { Description = "Directory of V<version>__<name>.sql (and U<version>__<name>.sql) files" };
        var command = new Command("lint",
            "Zero-downtime lint of a migration set on PostgreSQL's parse tree; exit 1 on any error finding (warnings exit 0), 2 when the set cannot be read")
        {
            directory,
        };
        command.SetAction(async (parsed, _) =>
        {
            if (await LoadAsync(parsed.GetValue(directory)!, io).ConfigureAwait(false) is not { } set)
            {
                return UnusableSet;
            }
            var report = MigrationLinter.Lint(set);
            if (parsed.GetValue(globals.Json)) await io.Out.WriteLineAsync(ChangeOutput.LintJson(set, report)).ConfigureAwait(false);
            else await io.Out.WriteAsync(ChangeOutput.LintText(set, report)).ConfigureAwait(false);
            return report.HasErrors ? LintErrors : ExitCodes.Ok;
        });
        return command;
    }

    private static Command PlanLocal(GlobalOptions globals, CliIo io)
    {
        var directory = new Argument<string>("DIR") { Description = "Directory of V<version>__<name>.sql files" };
        var command = new Command("plan-local",
            "Per statement of every version: the lock it takes, on which tables, and whether it rewrites or scans (no table sizes: those come from a target)")
        {
            directory,
        };
        command.SetAction(async (parsed, _) =>
        {
            if (await LoadAsync(parsed.GetValue(directory)!, io).ConfigureAwait(false) is not { } set)
            {
                return UnusableSet;
            }
            var plan = MigrationPlanner.Plan(set);
            if (parsed.GetValue(globals.Json)) await io.Out.WriteLineAsync(ChangeOutput.PlanJson(plan)).ConfigureAwait(false);
            else await io.Out.WriteAsync(ChangeOutput.PlanText(plan)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Rules(GlobalOptions globals, CliIo io)
    {
        var command = new Command("rules", "Every lint rule: id, slug, severity and what it catches");
        command.SetAction(async (parsed, _) =>
        {
            if (parsed.GetValue(globals.Json)) await io.Out.WriteLineAsync(ChangeOutput.RulesJson()).ConfigureAwait(false);
            else await io.Out.WriteAsync(ChangeOutput.RulesText()).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<ParsedMigrationSet?> LoadAsync(string directory, CliIo io)
    {
        try
        {
            return ParsedMigrationSet.Parse(MigrationSetLoader.FromDirectory(directory), SqlParser.Shared);
        }
        catch (MigrationSetException e)
        {
            foreach (var error in e.Errors)
            {
                var where = error.FileName.Length == 0 ? "" : Path.Combine(directory, error.FileName) + ": ";
                await io.Error.WriteLineAsync($"error: {where}{error.Message}").ConfigureAwait(false);
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await io.Error.WriteLineAsync($"error: cannot read '{directory}': {e.Message}").ConfigureAwait(false);
            return null;
        }
    }
}
