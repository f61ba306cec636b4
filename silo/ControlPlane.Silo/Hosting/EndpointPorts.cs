namespace ControlPlane.Silo.Hosting;

/// <summary>The ports the gateway and the metrics endpoint actually listen on (known once Kestrel has bound them).</summary>
public sealed class EndpointPorts
{
    public int Grpc { get; set; }
    public int Metrics { get; set; }
}
