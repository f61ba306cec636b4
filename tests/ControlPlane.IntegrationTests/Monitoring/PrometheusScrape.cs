using System.Globalization;
using System.Text.RegularExpressions;

namespace ControlPlane.IntegrationTests.Monitoring;

/// <summary>One sample line of the Prometheus text format: <c>name{label="value",...} value</c>.</summary>
public sealed record ScrapedSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>Reads the silo's real /metrics endpoint and parses the sample lines (comments and HELP/TYPE skipped).</summary>
public static partial class PrometheusScrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<IReadOnlyList<ScrapedSample>> ReadAsync(Uri endpoint)
    {
        var body = await Http.GetStringAsync(endpoint);
        return Parse(body);
    }

    public static IReadOnlyList<ScrapedSample> Parse(string body)
    {
        var samples = new List<ScrapedSample>();
        foreach (var line in body.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var m = LineRegex().Match(line);
            if (!m.Success) continue;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match l in LabelRegex().Matches(m.Groups["labels"].Value))
                labels[l.Groups["k"].Value] = l.Groups["v"].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
            if (double.TryParse(m.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                samples.Add(new ScrapedSample(m.Groups["name"].Value, labels, value));
        }
        return samples;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)")]
    private static partial Regex LineRegex();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(\\.|[^""\\])*)""")]
    private static partial Regex LabelRegex();
}
