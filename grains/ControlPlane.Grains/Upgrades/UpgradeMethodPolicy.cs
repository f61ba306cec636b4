using ControlPlane.Postgres.Upgrades;

namespace ControlPlane.Grains.Upgrades;

/// <summary>Whether one method can rehearse an upgrade here, why not, and with which installations.</summary>
/// <param name="Server">The target installation whose server runs the upgraded copy (null when there is none).</param>
/// <param name="ClientTools">The installation whose pg_dump/pg_restore/psql do the copying (logical schema, dump); for pg_upgrade, the source installation.</param>
public sealed record MethodVerdict(UpgradeMethod Method, bool Possible, string Reason, PgInstallation? Server, PgInstallation? ClientTools);

/// <summary>
/// Which upgrade methods are possible from the tier's major to a target major with the installations of this host.
/// Pure: the installations are facts gathered beforehand.
/// <list type="bullet">
/// <item><c>logical</c>: the target's server, and client tools (pg_dump, pg_dumpall, pg_restore, psql) of a major at
/// least the source's, to copy schema and roles; the data flows by logical replication, which needs no tool.</item>
/// <item><c>dump</c>: the same client tools. pg_dump refuses a server newer than itself, so its major must be at least
/// the source's; PostgreSQL recommends the newer version's pg_dump, so the target's tools are preferred and the
/// source's are used (said so in the reason) only when the target ships none. pg_restore reads archives of its own
/// version or older, so it comes from the same installation as pg_dump.</item>
/// <item><c>pg_upgrade</c>: the target installation's pg_upgrade and the tools it runs from there, and the source
/// installation's server and pg_controldata (pg_upgrade runs both clusters).</item>
/// </list>
/// </summary>
public static class UpgradeMethodPolicy
{
    public static IReadOnlyList<MethodVerdict> Evaluate(int sourceMajor, int targetMajor, IReadOnlyList<PgInstallation> installations)
    {
        ArgumentNullException.ThrowIfNull(installations);
        return [.. Enum.GetValues<UpgradeMethod>().Select(m => Evaluate(m, sourceMajor, targetMajor, installations))];
    }

    public static MethodVerdict Evaluate(UpgradeMethod method, int sourceMajor, int targetMajor, IReadOnlyList<PgInstallation> installations)
    {
        ArgumentNullException.ThrowIfNull(installations);
        if (sourceMajor <= 0) return No(method, "the tier's PostgreSQL version is not known yet (its primary has not been probed)");
        if (targetMajor <= sourceMajor) return No(method, $"target version {targetMajor} is not newer than the tier's {sourceMajor}");
        var target = installations.FirstOrDefault(i => i.Major == targetMajor);
        if (target is null)
        {
            return No(method, $"no PostgreSQL {targetMajor} installation: configure ControlPlane:Upgrades:Installations:{targetMajor} with its bin directory " +
                $"or install {PgInstallations.DebianRoot}/{targetMajor}/bin (found: {Describe(installations)})");
        }
        if (target.Missing(PgInstallation.ServerTools) is { Count: > 0 } noServer)
            return No(method, $"the PostgreSQL {targetMajor} installation {target.BinDirectory} has no {string.Join(", ", noServer)}", target);
        return method switch
        {
            UpgradeMethod.Logical or UpgradeMethod.Dump => WithClientTools(method, sourceMajor, target, installations),
            _ => PgUpgrade(sourceMajor, target, installations),
        };
    }

    /// <summary>The client tools to copy with: the target's when complete, else the newest complete set not older than the source (never newer than the target).</summary>
    private static MethodVerdict WithClientTools(UpgradeMethod method, int sourceMajor, PgInstallation target, IReadOnlyList<PgInstallation> installations)
    {
        if (target.Missing(PgInstallation.ClientTools).Count == 0)
            return new MethodVerdict(method, true, $"server and client tools of PostgreSQL {target.Major} in {target.BinDirectory}", target, target);
        var tools = installations
            .Where(i => i.Major >= sourceMajor && i.Major <= target.Major && i.Missing(PgInstallation.ClientTools).Count == 0)
            .MaxBy(i => i.Major);
        if (tools is null)
        {
            return No(method, $"no client tools ({string.Join(", ", PgInstallation.ClientTools)}) of PostgreSQL {sourceMajor} to {target.Major}: " +
                $"{target.BinDirectory} lacks {string.Join(", ", target.Missing(PgInstallation.ClientTools))} (found: {Describe(installations)})", target);
        }
        var why = method == UpgradeMethod.Dump
            ? $"; PostgreSQL recommends the target's own pg_dump, which {target.BinDirectory} lacks"
            : "";
        return new MethodVerdict(method, true,
            $"server of PostgreSQL {target.Major} in {target.BinDirectory}, client tools of PostgreSQL {tools.Major} in {tools.BinDirectory}{why}", target, tools);
    }

    private static MethodVerdict PgUpgrade(int sourceMajor, PgInstallation target, IReadOnlyList<PgInstallation> installations)
    {
        if (!target.Has("pg_upgrade")) return No(UpgradeMethod.PgUpgrade, $"not possible: no pg_upgrade in {target.BinDirectory}", target);
        if (target.Missing(PgInstallation.PgUpgradeNewTools) is { Count: > 0 } missing)
            return No(UpgradeMethod.PgUpgrade, $"not possible: pg_upgrade needs {string.Join(", ", missing)} beside it in {target.BinDirectory}", target);
        var source = installations.FirstOrDefault(i => i.Major == sourceMajor);
        if (source is null || source.Missing(PgInstallation.PgUpgradeOldTools) is { Count: > 0 })
        {
            return No(UpgradeMethod.PgUpgrade,
                $"not possible: pg_upgrade needs the PostgreSQL {sourceMajor} server ({string.Join(", ", PgInstallation.PgUpgradeOldTools)}), " +
                $"{(source is null ? "which is not installed" : $"missing {string.Join(", ", source.Missing(PgInstallation.PgUpgradeOldTools))} in {source.BinDirectory}")}", target);
        }
        return new MethodVerdict(UpgradeMethod.PgUpgrade, true,
            $"pg_upgrade of PostgreSQL {target.Major} in {target.BinDirectory}, from PostgreSQL {sourceMajor} in {source.BinDirectory}", target, source);
    }

    private static MethodVerdict No(UpgradeMethod method, string reason, PgInstallation? server = null) => new(method, false, reason, server, null);

    private static string Describe(IReadOnlyList<PgInstallation> installations) =>
        installations.Count == 0 ? "none" : string.Join(", ", installations.Select(i => $"{i.Major} in {i.BinDirectory}"));
}
