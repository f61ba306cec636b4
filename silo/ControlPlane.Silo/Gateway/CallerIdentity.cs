using Grpc.Core;

namespace ControlPlane.Silo.Gateway;

/// <summary>Who is calling, as the decision log and audit name them.</summary>
internal static class CallerIdentity
{
    public static string Of(ServerCallContext context)
    {
        var name = context.GetHttpContext().User.Identity?.Name;
        return string.IsNullOrEmpty(name) ? "anonymous" : name;
    }
}
