using System.Text.RegularExpressions;

namespace ControlPlane.Postgres.Upgrades;

/// <summary>
/// What <c>pg_upgrade --check</c> printed, read back: how many checks passed, whether it called the clusters
/// compatible, and every check that did not say <c>ok</c> with the explanation pg_upgrade gave under it (the
/// incompatibilities a real upgrade would stop at). Pure, so it is unit-tested on sample outputs.
/// </summary>
public sealed partial record PgUpgradeCheckReport(int Passed, bool Compatible, IReadOnlyList<string> Findings)
{
    private const string Compatibility = "*Clusters are compatible*";
    private const string Failure = "Failure, exiting";

    public static PgUpgradeCheckReport Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var passed = 0;
        var compatible = false;
        var findings = new List<string>();
        string? check = null;
        var explanation = new List<string>();

        void Close()
        {
            if (check is null) return;
            findings.Add(explanation.Count == 0 ? check : $"{check}: {string.Join(' ', explanation)}");
            check = null;
            explanation.Clear();
        }

        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (line.StartsWith("Checking ", StringComparison.Ordinal))
            {
                Close();
                var status = StatusLine().Match(line);
                if (status.Success && status.Groups[2].Value == "ok")
                {
                    passed++;
                    continue;
                }
                // A check that stopped pg_upgrade prints its status word ("fatal"), or nothing when it failed at once.
                check = status.Success ? $"{status.Groups[1].Value.Trim()} ({status.Groups[2].Value})" : line;
                continue;
            }
            if (line == Compatibility) compatible = true;
            if (line == Failure)
            {
                Close();
                continue;
            }
            if (check is not null && line.Length > 0) explanation.Add(line);
        }
        Close();
        return new PgUpgradeCheckReport(passed, compatible && findings.Count == 0, findings);
    }

    /// <summary>
    /// "Checking for prepared transactions    ok": the check padded to pg_upgrade's message width, then its status
    /// word; a check longer than the width gets no padding at all.
    /// </summary>
    [GeneratedRegex(@"^(Checking .*?)\s*(ok|fatal|warning|failed|\*failure\*)$")]
    private static partial Regex StatusLine();
}
