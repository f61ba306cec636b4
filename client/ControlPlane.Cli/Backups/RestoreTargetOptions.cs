using System.CommandLine;
using ControlPlane.Protos.V1;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace ControlPlane.Cli.Backups;

/// <summary>
/// Where recovery stops: exactly one of --latest (the default), --time, --lsn, --restore-point, --immediate, each
/// becoming its case of the RestoreTarget oneof. Two targets are refused at parse time rather than one silently winning.
/// </summary>
internal sealed class RestoreTargetOptions
{
    private readonly Option<bool> latest = new("--latest") { Description = "Everything the archive holds (the default)" };
    private readonly Option<string?> time = new("--time") { Description = "A moment, ISO 8601 with a UTC offset, e.g. 2026-11-27T03:15:00Z", HelpName = "TIME" };
    private readonly Option<string?> lsn = new("--lsn") { Description = "A WAL location, e.g. 0/3000060", HelpName = "X/Y" };
    private readonly Option<string?> restorePoint = new("--restore-point") { Description = "A restore point made with 'cpctl restore-point'", HelpName = "NAME" };
    private readonly Option<bool> immediate = new("--immediate") { Description = "The end of the base backup itself (no WAL replayed past it)" };

    public RestoreTargetOptions()
    {
        time.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is { } v && BackupArguments.CheckTime(v, "--time", out _) is { } e) r.AddError(e); });
        lsn.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is { } v && BackupArguments.CheckLsn(v, "--lsn") is { } e) r.AddError(e); });
        restorePoint.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is { } v && BackupArguments.CheckRestorePoint(v, "--restore-point") is { } e) r.AddError(e); });
    }

    private Option[] All => [latest, time, lsn, restorePoint, immediate];

    public void AddTo(Command command)
    {
        foreach (var option in All) command.Add(option);
        command.Validators.Add(result =>
        {
            var given = All.Where(o => result.GetResult(o) is not null).Select(o => o.Name).ToList();
            if (given.Count > 1)
                result.AddError($"give one restore target, not {given.Count}: {string.Join(", ", given)}; expected one of --latest, --time, --lsn, --restore-point, --immediate.");
        });
    }

    /// <summary>The target the (validated) command line asks for; latest when none is given.</summary>
    public RestoreTarget Target(ParseResult parsed)
    {
        if (parsed.GetValue(time) is { } t)
        {
            BackupArguments.CheckTime(t, "--time", out var at);
            return new RestoreTarget { Time = Timestamp.FromDateTimeOffset(at) };
        }
        if (parsed.GetValue(lsn) is { } l) return new RestoreTarget { Lsn = l.ToUpperInvariant() };
        if (parsed.GetValue(restorePoint) is { } p) return new RestoreTarget { RestorePoint = p };
        if (parsed.GetValue(immediate)) return new RestoreTarget { Immediate = true };
        return new RestoreTarget { Latest = true };
    }
}
