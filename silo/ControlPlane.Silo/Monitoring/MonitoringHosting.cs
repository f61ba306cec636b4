using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Telemetry;
using ControlPlane.Silo.Hosting;
using OpenTelemetry.Metrics;

namespace ControlPlane.Silo.Monitoring;

/// <summary>Wiring of monitoring and alerting: options (validated at start), the alert metrics, the exported readings and the webhook sink.</summary>
internal static class MonitoringHosting
{
    public static void AddControlPlaneMonitoring(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(MonitoringOptions.Section).Get<MonitoringOptions>() ?? new MonitoringOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        builder.Services.Configure<MonitoringOptions>(builder.Configuration.GetSection(MonitoringOptions.Section));
        builder.Services.AddSingleton<AlertMetrics>();
        builder.Services.AddSingleton<AlertWebhookSink>();
        builder.Services.AddSingleton<ReadingMetrics>();
        builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddMeter(AlertMetrics.MeterName, ReadingMetrics.MeterName));
    }

    public static void MapControlPlaneMonitoring(this WebApplication app)
    {
        app.MapGrpcService<MonitoringGrpcService>();
        app.MapGrpcService<AlertGrpcService>();
    }
}
