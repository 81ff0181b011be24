using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Apertur.Server.Data;

/// <summary>
/// An EF compiled query for the hot paths (every upload runs a few): compiling once skips EF's per-call LINQ
/// translation and cache lookup, which cost more than these small queries themselves. EF ties a compiled query to one
/// model and each database provider has its own, so one is compiled per model, on first use.
/// </summary>
public sealed class CompiledQuery<TQuery>(Func<TQuery> compile) where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> _byModel = [];

    public TQuery For(AperturDb db) => _byModel.GetValue(db.Model, _ => compile());
}
