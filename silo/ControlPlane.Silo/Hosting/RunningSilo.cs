using ControlPlane.Silo.Bootstrap;

namespace ControlPlane.Silo.Hosting;

/// <summary>A started silo with the instances it brought up; disposing stops the silo, then those instances.</summary>
public sealed class RunningSilo(WebApplication app, EmbeddedInstances instances, ControlPlaneOptions options, Uri grpcEndpoint, Uri metricsEndpoint)
    : IAsyncDisposable
{
    public WebApplication App { get; } = app;
    public ControlPlaneOptions Options { get; } = options;
    public Uri GrpcEndpoint { get; } = grpcEndpoint;
    public Uri MetricsEndpoint { get; } = metricsEndpoint;
    public EmbeddedInstances Instances { get; } = instances;

    public IServiceProvider Services => App.Services;

    /// <summary>How long the silo gets to leave the cluster, and then, separately, its instances get to stop.</summary>
    public static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(60);

    private int _disposed;

    /// <summary>
    /// Stops the silo (leaving the cluster cleanly), then the local instances, catalog last. The instances get a budget
    /// of their own: a silo whose graceful shutdown used its whole budget (a catalog commit waiting for a standby that
    /// does not answer) must still stop the PostgreSQL servers it started. A second call does nothing.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try
        {
            using var silo = new CancellationTokenSource(StopBudget);
            await App.StopAsync(silo.Token);
        }
        finally
        {
            await App.DisposeAsync();
            using var local = new CancellationTokenSource(StopBudget);
            await Instances.StopAsync(local.Token);
        }
    }
}
