namespace ControlPlane.Grains.Capacity;

/// <summary>Capacity planning of one tier: samples on a schedule, keeps the downsampled history, forecasts. Key: <c>env/tier</c>.</summary>
[Alias("controlplane.ICapacityGrain")]
public interface ICapacityGrain : IGrainWithStringKey
{
    /// <summary>The view from what has been sampled so far; forecasts use only the newest <paramref name="window"/> of
    /// history when it is given (after a step change, the old trend says nothing about the new one).</summary>
    [Alias("GetReport"), AlwaysInterleave]
    Task<CapacityReport> GetReport(TimeSpan? window);

    /// <summary>Samples every replica now (as the schedule does) and answers the view. InvalidOperationException when the tier is not registered yet.</summary>
    [Alias("Sample")]
    Task<CapacityReport> Sample();

    /// <summary>Keeps the scheduled sampling running (a no-op when it is).</summary>
    [Alias("Ensure"), AlwaysInterleave]
    Task Ensure();
}
