using System.Globalization;

namespace ControlPlane.Grains.Upgrades;

/// <summary>
/// Upgrade rehearsals (<c>ControlPlane:Upgrades</c>): the PostgreSQL installations besides Debian's
/// (<c>Installations:17 = /opt/pg17/bin</c>), where scratch instances go, and each tier's smoke queries.
/// </summary>
public sealed class UpgradeOptions
{
    public const string Section = "ControlPlane:Upgrades";

    /// <summary>Major version → bin directory. A configured major wins over <c>/usr/lib/postgresql/&lt;major&gt;/bin</c>.</summary>
    public Dictionary<string, string> Installations { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Where rehearsals put their scratch instances (default <c>&lt;data-dir&gt;/upgrades</c>).</summary>
    public string ScratchDirectory { get; set; } = "";

    /// <summary>Tier → queries run on the upgraded copy (in the tier's database) after the built-in "every table readable".</summary>
    public Dictionary<string, List<string>> SmokeQueries { get; set; } = new(StringComparer.Ordinal);

    /// <summary>pg_dump/pg_restore parallel jobs of the <c>dump</c> method.</summary>
    public int Jobs { get; set; } = 2;

    /// <summary>Rows written to the scratch source while a <c>logical</c> subscriber catches up.</summary>
    public int CatchUpWrites { get; set; } = 500;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(2);

    public IReadOnlyDictionary<int, string> ConfiguredMajors() =>
        Installations.Where(i => int.TryParse(i.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .ToDictionary(i => int.Parse(i.Key, CultureInfo.InvariantCulture), i => i.Value);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        foreach (var (major, directory) in Installations)
        {
            if (!int.TryParse(major, NumberStyles.None, CultureInfo.InvariantCulture, out var m) || m is < 10 or > 99)
                errors.Add($"{Section}:Installations:{major}: '{major}' is not a PostgreSQL major version; expected 10 to 99.");
            if (!Path.IsPathFullyQualified(directory))
                errors.Add($"{Section}:Installations:{major} '{directory}' is not an absolute path.");
        }
        if (!Path.IsPathFullyQualified(ScratchDirectory)) errors.Add($"{Section}:ScratchDirectory '{ScratchDirectory}' is not an absolute path.");
        if (Jobs is < 1 or > 64) errors.Add($"{Section}:Jobs is {Jobs}; expected 1 to 64.");
        if (CatchUpWrites is < 1 or > 1_000_000) errors.Add($"{Section}:CatchUpWrites is {CatchUpWrites}; expected 1 to 1000000.");
        if (Timeout <= TimeSpan.Zero) errors.Add($"{Section}:Timeout is {Timeout}; expected a positive duration.");
        return errors;
    }
}
