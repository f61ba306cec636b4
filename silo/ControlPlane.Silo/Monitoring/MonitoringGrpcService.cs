using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Monitoring;

/// <summary>Performance reports and metric histories of replicas: validates, asks the replica grain, maps back.</summary>
internal sealed class MonitoringGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.MonitoringService.MonitoringServiceBase
{
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.Performance> GetPerformance(Proto.GetPerformanceRequest request, ServerCallContext context)
    {
        var (env, tier, replica) = await ReplicaAsync(request.Environment, request.Tier, request.Replica);
        var report = await cluster.GetGrain<IReplicaMonitor>(FleetKeys.Replica(env, tier, replica)).GetPerformance();
        return MonitoringMapper.ToProto(env, tier, report);
    }

    public override async Task<Proto.MetricHistory> GetMetricHistory(Proto.GetMetricHistoryRequest request, ServerCallContext context)
    {
        if (!MonitoringMetrics.IsKnown(request.Metric))
        {
            throw RequestValidation.Invalid($"metric '{RequestValidation.Shown(request.Metric)}' is unknown; expected one of " +
                string.Join(", ", MonitoringMetrics.All.Where(m => m.Source == "replica").Select(m => m.Name)) + ".");
        }
        var (env, tier, replica) = await ReplicaAsync(request.Environment, request.Tier, request.Replica);
        var points = await cluster.GetGrain<IReplicaMonitor>(FleetKeys.Replica(env, tier, replica)).GetMetricHistory(request.Metric);
        var response = new Proto.MetricHistory { Metric = request.Metric, Replica = replica };
        response.Points.AddRange(points.Select(MonitoringMapper.ToProto));
        return response;
    }

    public override Task<Proto.ListMetricsResponse> ListMetrics(Proto.ListMetricsRequest request, ServerCallContext context)
    {
        var response = new Proto.ListMetricsResponse();
        response.Metrics.AddRange(MonitoringMetrics.All.Select(m => new Proto.MetricInfo { Name = m.Name, Source = m.Source, Unit = m.Unit, Meaning = m.Meaning }));
        return Task.FromResult(response);
    }

    /// <summary>The named replica of the tier, or its primary when none is named.</summary>
    private async Task<(string Env, string Tier, string Replica)> ReplicaAsync(string requestedEnv, string requestedTier, string requestedReplica)
    {
        var env = RequestValidation.Environment(requestedEnv, _defaultEnvironment);
        var tier = RequestValidation.Name("tier", requestedTier);
        var snapshot = await TierLookup.SnapshotAsync(cluster, env, tier);
        if (string.IsNullOrEmpty(requestedReplica))
        {
            if (snapshot.Primary.Length == 0) throw new RpcException(new Status(StatusCode.Unavailable, $"tier '{tier}' has no primary right now; name a replica or retry."));
            return (env, tier, snapshot.Primary);
        }
        var replica = RequestValidation.Name("replica", requestedReplica);
        if (snapshot.Replicas.All(r => r.Name != replica))
        {
            throw RequestValidation.NotFound($"replica '{replica}' not found in tier '{tier}'; its replicas are: {string.Join(", ", snapshot.Replicas.Select(r => r.Name))}.");
        }
        return (env, tier, replica);
    }
}
