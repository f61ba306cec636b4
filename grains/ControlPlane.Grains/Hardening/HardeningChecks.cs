using ControlPlane.Postgres.Hardening;

namespace ControlPlane.Grains.Hardening;

/// <summary>One check: a CIS/STIG-style id, what it expects, why, how to fix it, and a pure verdict over the facts.</summary>
public sealed record HardeningCheck(
    string Id,
    string Title,
    CheckSeverity Severity,
    string Expected,
    string Rationale,
    string Remediation,
    Func<HardeningFacts, HardeningContext, Verdict> Evaluate);

/// <summary>
/// The catalogue of checks, grouped by concern in the partial files beside this one (Tls, Auth, Privileges,
/// Logging, Platform). Ids are stable: docs/hardening.md, accepted exceptions and alert rules name them.
/// Every check is pure over <see cref="HardeningFacts"/> and <see cref="HardeningContext"/>.
/// </summary>
public static partial class HardeningChecks
{
    public static IReadOnlyList<HardeningCheck> All { get; } = [.. Tls, .. Auth, .. Privileges, .. Logging, .. Platform];

    public static IReadOnlySet<string> Ids { get; } = All.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);

    private const int ShownNames = 10;

    /// <summary>A setting judged by <paramref name="ok"/>; unknown when the login may not read it.</summary>
    private static Verdict Setting(HardeningFacts facts, string name, Func<string, bool> ok) =>
        facts.Setting(name) is { } value ? Verdict.When(ok(value), $"{name} = '{value}'") : Verdict.Unknown($"{name} cannot be read by this login");

    private static bool IsOn(string value) => value is "on" or "true" or "yes" or "1";

    /// <summary>Fails listing the offending pg_hba.conf lines; unknown when pg_hba_file_rules cannot be read (needs superuser).</summary>
    private static Verdict Hba(HardeningFacts facts, Func<HbaRule, bool> bad, string none)
    {
        if (facts.HbaRules is not { } rules) return Verdict.Unknown("pg_hba_file_rules cannot be read by this login");
        var lines = rules.Where(r => r.Error is null && bad(r)).ToList();
        return lines.Count == 0 ? Verdict.Pass(none) : Verdict.Fail(string.Join("; ", lines.Select(Describe)));
    }

    internal static string Describe(HbaRule r) =>
        $"line {r.Line}: {r.Type} {string.Join(',', r.Databases)} {string.Join(',', r.Users)} {r.Address ?? ""} {r.Method}".Replace("  ", " ", StringComparison.Ordinal);

    /// <summary>Fails naming the roles flagged beyond the expected ones.</summary>
    private static Verdict Roles(HardeningFacts facts, Func<RoleFact, bool> flagged, IEnumerable<string> expected, string what)
    {
        if (facts.Roles is not { } roles) return Verdict.Unknown("pg_roles cannot be read by this login");
        var allowed = expected.ToHashSet(StringComparer.Ordinal);
        var extra = roles.Where(r => flagged(r) && !allowed.Contains(r.Name)).Select(r => r.Name).ToList();
        return extra.Count == 0
            ? Verdict.Pass($"{what}: only expected roles ({Names(roles.Where(flagged).Select(r => r.Name))})")
            : Verdict.Fail($"{what} beyond the expected: {Names(extra)}");
    }

    /// <summary>Fails when the list is not empty; unknown when it could not be read.</summary>
    private static Verdict NoneOf(IReadOnlyList<string>? items, string what) => items switch
    {
        null => Verdict.Unknown($"{what} cannot be read by this login"),
        [] => Verdict.Pass($"no {what}"),
        _ => Verdict.Fail($"{what}: {Names(items)}"),
    };

    internal static string Names(IEnumerable<string> names)
    {
        var list = names.ToList();
        if (list.Count == 0) return "none";
        var shown = string.Join(", ", list.Take(ShownNames));
        return list.Count > ShownNames ? $"{shown} and {list.Count - ShownNames} more" : shown;
    }

    /// <summary>Loopback addresses and the keywords that mean "this host".</summary>
    internal static bool IsLoopback(string? address) =>
        address is not null && (address.StartsWith("127.", StringComparison.Ordinal) || address.StartsWith("::1/", StringComparison.Ordinal)
            || address is "::1" or "samehost" or "localhost");

    internal static bool IsEverywhere(string? address) => address is "all" or "0.0.0.0/0" or "::/0" or "::0/0";
}
