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

    /// <summary>Stops the silo (leaving the cluster cleanly), then the local instances, catalog last.</summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await App.StopAsync(timeout.Token);
        }
        finally
        {
            await App.DisposeAsync();
            await Instances.StopAsync(timeout.Token);
        }
    }
}
