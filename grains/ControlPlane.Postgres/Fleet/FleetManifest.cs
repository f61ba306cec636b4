using System.Text.Json;

namespace ControlPlane.Postgres.Fleet;

/// <summary>What a local fleet remembers between starts: each replica's port and which replica was primary.</summary>
public sealed record FleetManifest(int Version, IReadOnlyDictionary<string, TierManifest> Tiers)
{
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static FleetManifest Empty { get; } = new(CurrentVersion, new Dictionary<string, TierManifest>());

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses a manifest; the error names what is wrong rather than failing later on a null.</summary>
    public static FleetManifest Parse(string json)
    {
        FleetManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<FleetManifest>(json, Json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Fleet manifest is not valid JSON: {e.Message}", e);
        }
        if (manifest is null || manifest.Tiers is null) throw new FormatException("Fleet manifest has no 'tiers' object.");
        if (manifest.Version != CurrentVersion)
        {
            throw new FormatException($"Fleet manifest version is {manifest.Version}; expected {CurrentVersion}.");
        }
        foreach (var (tier, t) in manifest.Tiers)
        {
            if (t?.Ports is null || string.IsNullOrEmpty(t.Primary))
            {
                throw new FormatException($"Fleet manifest tier '{tier}' needs 'primary' and 'ports'.");
            }
            foreach (var (replica, port) in t.Ports)
            {
                if (port is <= 0 or > 65535) throw new FormatException($"Fleet manifest port of '{replica}' is {port}; expected 1..65535.");
            }
        }
        return manifest;
    }

    /// <summary>The manifest at <paramref name="path"/>, or <see cref="Empty"/> when there is none yet.</summary>
    public static FleetManifest Load(string path) => File.Exists(path) ? Parse(File.ReadAllText(path)) : Empty;

    public int? PortOf(string tier, string replica) =>
        Tiers.TryGetValue(tier, out var t) && t.Ports.TryGetValue(replica, out var p) ? p : null;

    public FleetManifest With(string tier, TierManifest value)
    {
        var tiers = new Dictionary<string, TierManifest>(Tiers) { [tier] = value };
        return this with { Tiers = tiers };
    }
}

/// <summary>One tier in the manifest.</summary>
public sealed record TierManifest(string Primary, IReadOnlyDictionary<string, int> Ports);
