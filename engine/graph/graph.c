#include "graph.h"

#include <stdlib.h>
#include <string.h>

#include "port_type.h"

int graph_is_source(const graph_stage *s)
{
    return s->plugin && !s->plugin->desc.input;
}
int graph_is_sink(const graph_stage *s)
{
    return s->plugin && !s->plugin->desc.output;
}

size_t graph_find(const graph *g, const char *name)
{
    size_t i = 0;
    while (i < g->n_stages && strcmp(g->stages[i].cfg->name, name) != 0)
        i++;
    return i;
}

void graph_free(graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_stages; i++) {
        schema_values_free(g->stages[i].config);
        free(g->stages[i].inputs);
        free(g->stages[i].consumers);
    }
    free(g->stages);
    free(g->order);
    free(g);
}

/* ---- per stage: plugin and configuration ------------------------------ */

static void load_stage(graph *g, graph_stage *s, loader *l, diag *d)
{
    const config_pipeline *p = g->pipeline;
    const config_stage *c = s->cfg;
    char err[2048];
    if (!c->plugin.name)
        return; /* config_load reported the missing key */
    if (!(s->plugin = loader_get(l, c->plugin.name, err, sizeof err))) {
        diag_error(d, p->file, c->plugin.line, c->plugin.col, "stage \"%s\": %s", c->name, err);
        return;
    }
    static const fr_param no_params[] = {{0}};
    schema_origin origin = {.file = p->file,
                            .stage = c->name,
                            .plugin = s->plugin->desc.name,
                            .line = c->line,
                            .col = c->col};
    s->config = schema_apply(s->plugin->desc.params ? s->plugin->desc.params : no_params,
                             c->entries, c->n_entries, &origin, d);
}

static void place_stage(graph *g, graph_stage *s)
{
    const config_pipeline *p = g->pipeline;
    for (size_t n = 0; s->cfg->node.name && n < p->n_nodes; n++)
        if (strcmp(p->nodes[n].name, s->cfg->node.name) == 0)
            s->node = n;
    if (s->cfg->replica_node) /* replicas over several nodes: the first one's */
        s->node = s->cfg->replica_node[0];
}

size_t graph_instance_node(const graph *g, size_t s, uint32_t replica)
{
    const config_stage *cfg = g->stages[s].cfg;
    return cfg->replica_node && replica < cfg->replicas ? cfg->replica_node[replica]
                                                        : g->stages[s].node;
}

int graph_stage_on_node(const graph *g, size_t s, size_t node)
{
    for (uint32_t k = 0; k < g->stages[s].cfg->replicas; k++)
        if (graph_instance_node(g, s, k) == node)
            return 1;
    return 0;
}

/* ---- edges ------------------------------------------------------------ */

static int push_index(size_t **list, size_t *n, size_t value)
{
    size_t *grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    grown[(*n)++] = value;
    *list = grown;
    return 0;
}

static void unknown_input(graph *g, const config_stage *c, const config_ref *ref, diag *d)
{
    const char *names[256];
    size_t n = 0;
    for (size_t i = 0; i < g->n_stages && n < 256; i++)
        names[n++] = g->stages[i].cfg->name;
    const char *guess = schema_did_you_mean(ref->name, names, n);
    diag_error(d, g->pipeline->file, ref->line, ref->col,
               "stage \"%s\": input \"%s\" is not a stage of this pipeline%s%s%s", c->name,
               ref->name, guess ? " (did you mean \"" : "", guess ? guess : "",
               guess ? "\"?)" : "");
}

static void wire_inputs(graph *g, size_t index, diag *d)
{
    graph_stage *s = &g->stages[index];
    const config_stage *c = s->cfg;
    const char *file = g->pipeline->file;
    for (size_t k = 0; k < c->n_inputs; k++) {
        const config_ref *ref = &c->inputs[k];
        size_t up = graph_find(g, ref->name);
        if (up == g->n_stages) {
            unknown_input(g, c, ref, d);
        } else if (up == index) {
            diag_error(d, file, ref->line, ref->col, "stage \"%s\": takes its own output as input",
                       c->name);
        } else if (graph_is_sink(&g->stages[up])) {
            diag_error(d, file, ref->line, ref->col,
                       "stage \"%s\": input \"%s\" is a sink (plugin %s has no output)", c->name,
                       ref->name, g->stages[up].plugin->desc.name);
        } else {
            push_index(&s->inputs, &s->n_inputs, up);
            push_index(&g->stages[up].consumers, &g->stages[up].n_consumers, index);
        }
    }
    if (graph_is_source(s) && c->n_inputs)
        diag_error(d, file, c->line, c->col,
                   "stage \"%s\": plugin %s is a source and takes no inputs", c->name,
                   s->plugin->desc.name);
    if (s->plugin && !graph_is_source(s) && !c->n_inputs)
        diag_error(d, file, c->line, c->col,
                   "stage \"%s\": plugin %s needs inputs (add inputs: <stage>)", c->name,
                   s->plugin->desc.name);
}

/* Kahn's algorithm; the stages left over are on a cycle. */
static int sort_stages(graph *g, diag *d)
{
    size_t n = g->n_stages, done = 0;
    size_t *pending = calloc(n ? n : 1, sizeof *pending);
    if (!pending || !(g->order = calloc(n ? n : 1, sizeof *g->order))) {
        free(pending);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        pending[i] = g->stages[i].n_inputs;
    for (size_t pass = 0; pass < n; pass++)
        for (size_t i = 0; i < n; i++) {
            if (pending[i] != 0)
                continue;
            pending[i] = (size_t)-1;
            g->order[done++] = i;
            for (size_t k = 0; k < g->stages[i].n_consumers; k++)
                pending[g->stages[i].consumers[k]]--;
        }
    for (size_t i = 0; i < n && done < n; i++)
        if (pending[i] != (size_t)-1)
            diag_error(d, g->pipeline->file, g->stages[i].cfg->line, g->stages[i].cfg->col,
                       "stage \"%s\": is on a cycle (its inputs lead back to it)",
                       g->stages[i].cfg->name);
    free(pending);
    return done == n ? 0 : -1;
}

/* ---- types ------------------------------------------------------------ */

static const char *config_lookup(void *ctx, const char *key)
{
    return schema_string(ctx, key, NULL);
}

/* The declared output pattern with ${key} filled in from the config. */
static int expand_output(const graph *g, const graph_stage *s, port_type *out, diag *d)
{
    char text[STAGE_TYPE_MAX], err[512];
    const config_stage *c = s->cfg;
    if (port_type_expand(s->plugin->desc.output, config_lookup, s->config, text, sizeof text, err,
                         sizeof err) != 0 ||
        port_type_parse(text, out, err, sizeof err) != 0) {
        diag_error(d, g->pipeline->file, c->line, c->col, "stage \"%s\": output %s", c->name, err);
        return -1;
    }
    return 0;
}

static void check_edge(const graph *g, const graph_stage *s, size_t k, const port_type *declared,
                       diag *d)
{
    const graph_stage *up = &g->stages[s->inputs[k]];
    port_type emitted;
    char why[256];
    if (!up->output_type[0] || port_type_parse(up->output_type, &emitted, why, sizeof why) != 0)
        return; /* upstream already reported */
    if (!port_type_accepts(declared, &emitted, why, sizeof why)) {
        const config_ref *ref = &s->cfg->inputs[k];
        diag_error(d, g->pipeline->file, ref->line, ref->col,
                   "stage \"%s\": input \"%s\" emits %s, but %s takes %s (%s)", s->cfg->name,
                   up->cfg->name, up->output_type, s->plugin->desc.name, s->plugin->desc.input,
                   why);
    }
}

static void resolve_types(graph *g, graph_stage *s, diag *d)
{
    port_type in_pattern, upstream, out_pattern, out;
    char err[256];
    int has_in = s->plugin->desc.input &&
                 port_type_parse(s->plugin->desc.input, &in_pattern, err, sizeof err) == 0;
    for (size_t k = 0; has_in && k < s->n_inputs; k++)
        check_edge(g, s, k, &in_pattern, d);
    /* What the stage receives: its first upstream's type, else its pattern. */
    if (has_in) {
        const graph_stage *up = s->n_inputs ? &g->stages[s->inputs[0]] : NULL;
        if (!up || port_type_parse(up->output_type, &upstream, err, sizeof err) != 0)
            upstream = in_pattern;
        port_type_format(&upstream, s->input_type, sizeof s->input_type);
    }
    if (!s->plugin->desc.output || !s->config || expand_output(g, s, &out_pattern, d) != 0)
        return;
    port_type_bind(has_in ? &in_pattern : NULL, has_in ? &upstream : NULL, &out_pattern, &out);
    port_type_format(&out, s->output_type, sizeof s->output_type);
}

/* Distinct sinks reachable from index (a diamond reaches its sink once). */
static size_t count_sinks(const graph *g, size_t index, unsigned char *seen)
{
    if (seen[index])
        return 0;
    seen[index] = 1;
    const graph_stage *s = &g->stages[index];
    size_t n = graph_is_sink(s) ? 1 : 0;
    for (size_t k = 0; k < s->n_consumers; k++)
        n += count_sinks(g, s->consumers[k], seen);
    return n;
}

static void count_all_sinks(graph *g)
{
    unsigned char *seen = malloc(g->n_stages ? g->n_stages : 1);
    for (size_t i = 0; seen && i < g->n_stages; i++) {
        memset(seen, 0, g->n_stages);
        g->stages[i].sinks_reached = count_sinks(g, i, seen);
    }
    free(seen);
}

graph *graph_build(const config_pipeline *p, loader *l, diag *d)
{
    size_t errors_before = diag_error_count(d);
    graph *g = calloc(1, sizeof *g);
    if (!g || !(g->stages = calloc(p->n_stages ? p->n_stages : 1, sizeof *g->stages))) {
        free(g);
        diag_error(d, p->file, 0, 0, "out of memory");
        return NULL;
    }
    g->pipeline = p;
    g->n_stages = p->n_stages;
    for (size_t i = 0; i < p->n_plugin_path; i++)
        loader_add_dir(l, p->plugin_path[i]);
    for (size_t i = 0; i < g->n_stages; i++) {
        g->stages[i].cfg = &p->stages[i];
        load_stage(g, &g->stages[i], l, d);
        place_stage(g, &g->stages[i]);
    }
    if (g->n_stages == 0)
        diag_error(d, p->file, 1, 1, "the pipeline has no stages");
    for (size_t i = 0; i < g->n_stages; i++)
        wire_inputs(g, i, d);
    if (sort_stages(g, d) == 0)
        for (size_t i = 0; i < g->n_stages; i++)
            if (g->stages[g->order[i]].plugin)
                resolve_types(g, &g->stages[g->order[i]], d);
    count_all_sinks(g);
    if (diag_error_count(d) == errors_before)
        graph_check_limits(g, d);
    if (diag_error_count(d) > errors_before) {
        graph_free(g);
        return NULL;
    }
    return g;
}

/* ---- printing --------------------------------------------------------- */

static const char *node_name(const graph *g, const graph_stage *s)
{
    return g->pipeline->n_nodes ? g->pipeline->nodes[s->node].name : "local";
}

void graph_print(const graph *g, FILE *out)
{
    fprintf(out, "pipeline %s (%s): %zu stages\n", g->pipeline->name, g->pipeline->file,
            g->n_stages);
    for (size_t i = 0; i < g->n_stages; i++) {
        const graph_stage *s = &g->stages[g->order[i]];
        fprintf(out, "  %-14s %-16s x%-3u node %-10s", s->cfg->name, s->plugin->desc.name,
                s->cfg->replicas, node_name(g, s));
        if (s->input_type[0])
            fprintf(out, " in %s", s->input_type);
        if (s->output_type[0])
            fprintf(out, " out %s", s->output_type);
        fputc('\n', out);
        for (size_t k = 0; k < s->n_consumers; k++) {
            const graph_stage *c = &g->stages[s->consumers[k]];
            int remote = c->node != s->node;
            fprintf(out, "      -> %s%s\n", c->cfg->name, remote ? " (tcp, other node)" : "");
        }
    }
    fprintf(out, "dead letters: %s\n", g->pipeline->dead_letters);
}

void graph_print_dot(const graph *g, FILE *out)
{
    fprintf(out, "digraph \"%s\" {\n  rankdir=LR;\n  node [shape=box];\n", g->pipeline->name);
    for (size_t n = 0; n < g->pipeline->n_nodes; n++) {
        fprintf(out, "  subgraph \"cluster_%s\" {\n    label=\"%s %s\";\n",
                g->pipeline->nodes[n].name, g->pipeline->nodes[n].name,
                g->pipeline->nodes[n].endpoint);
        for (size_t i = 0; i < g->n_stages; i++)
            if (g->stages[i].node == n)
                fprintf(out, "    \"%s\";\n", g->stages[i].cfg->name);
        fprintf(out, "  }\n");
    }
    for (size_t i = 0; i < g->n_stages; i++) {
        const graph_stage *s = &g->stages[i];
        fprintf(out, "  \"%s\" [label=\"%s\\n%s x%u\"];\n", s->cfg->name, s->cfg->name,
                s->plugin->desc.name, s->cfg->replicas);
        for (size_t k = 0; k < s->n_consumers; k++)
            fprintf(out, "  \"%s\" -> \"%s\" [label=\"%s\"];\n", s->cfg->name,
                    g->stages[s->consumers[k]].cfg->name, s->output_type);
    }
    fprintf(out, "}\n");
}
