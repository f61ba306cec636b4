using ControlPlane.Grains.Sla;
using ControlPlane.Silo.Hosting;

namespace ControlPlane.Silo.Sla;

/// <summary>Wiring of the SLA measurement: its options (<c>ControlPlane:Sla</c>), checked at start.</summary>
internal static class SlaHosting
{
    public static void AddControlPlaneSla(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SlaOptions.Section).Get<SlaOptions>() ?? new SlaOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        builder.Services.Configure<SlaOptions>(builder.Configuration.GetSection(SlaOptions.Section));
    }

    public static void MapControlPlaneSla(this WebApplication app) => app.MapGrpcService<SlaGrpcService>();
}
