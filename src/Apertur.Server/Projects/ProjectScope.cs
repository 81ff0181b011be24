using Apertur.Server.Hosting;
using Apertur.Server.Keys;

namespace Apertur.Server.Projects;

/// <summary>Routes under <c>/projects/{projectId}</c>: a key acts on its own project only; any other id is 404 (docs/api.md "Authentication").</summary>
public static class ProjectScope
{
    /// <summary>The caller, when <paramref name="projectId"/> is the caller's project; otherwise 404, with no hint whether it exists.</summary>
    public static Caller RequireProject(this HttpContext http, string projectId)
    {
        var caller = http.GetCaller();
        return Guid.TryParse(projectId, out var id) && id == caller.ProjectId
            ? caller
            : throw ApiException.NotFound("Project not found.", "PROJECT_NOT_FOUND");
    }
}
