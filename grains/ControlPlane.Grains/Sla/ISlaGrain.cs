namespace ControlPlane.Grains.Sla;

/// <summary>A tier's availability as clients see it: a write on its primary every second, booked into history and
/// reported against the objective. Key: <c>env/tier</c>.</summary>
[Alias("controlplane.ISlaGrain")]
public interface ISlaGrain : IGrainWithStringKey
{
    /// <summary>The tier's report over the last <paramref name="period"/> (rounded out to whole buckets).</summary>
    [Alias("GetReport"), AlwaysInterleave]
    Task<SlaReport> GetReport(TimeSpan period);

    /// <summary>Keeps the measurement running (a no-op when it is).</summary>
    [Alias("Ensure"), AlwaysInterleave]
    Task Ensure();
}
