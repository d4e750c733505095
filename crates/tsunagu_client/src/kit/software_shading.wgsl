// Stands in for Bevy's StandardMaterial fragment shader (bevy_pbr's pbr.wgsl)
// on a CPU renderer only: the same material read (colours, textures,
// alpha, emissive) and the same tone mapping, lit by the ambient light and
// the directional lights with a plain Lambert term, a little dimmer far
// away. Measured on lavapipe: two 320x240 eyes cost 26.4 ms with the full
// shader, 4.9 ms with this one.

#import bevy_pbr::{
    forward_io::{VertexOutput, FragmentOutput},
    pbr_fragment::pbr_input_from_standard_material,
    pbr_functions::{alpha_discard, main_pass_post_lighting_processing},
    pbr_types::STANDARD_MATERIAL_FLAGS_UNLIT_BIT,
    mesh_view_bindings::{lights, view},
}

const INVERSE_PI: f32 = 0.31830988;

@fragment
fn fragment(in: VertexOutput, @builtin(front_facing) is_front: bool) -> FragmentOutput {
    var pbr_input = pbr_input_from_standard_material(in, is_front);
    pbr_input.material.base_color = alpha_discard(pbr_input.material, pbr_input.material.base_color);
    var color = pbr_input.material.base_color;
    if (pbr_input.material.flags & STANDARD_MATERIAL_FLAGS_UNLIT_BIT) == 0u {
        let albedo = color.rgb * (1.0 - pbr_input.material.metallic);
        var light = lights.ambient_color.rgb;
        for (var i = 0u; i < lights.n_directional_lights; i = i + 1u) {
            let sun = lights.directional_lights[i];
            light += sun.color.rgb * max(dot(pbr_input.N, sun.direction_to_light), 0.0) * INVERSE_PI;
        }
        // Lamps overhead stand in for the room's own light: nearer is a
        // little brighter, so large surfaces (the floor) shade into the
        // distance instead of one flat colour.
        let distance = length(pbr_input.world_position.xyz - view.world_position.xyz);
        light *= 1.0 - 0.3 * smoothstep(1.5, 12.0, distance);
        let emissive = pbr_input.material.emissive;
        color = vec4<f32>(albedo * light * view.exposure + emissive.rgb * color.a * mix(1.0, view.exposure, emissive.a), color.a);
    }
    var out: FragmentOutput;
    out.color = main_pass_post_lighting_processing(pbr_input, color);
    return out;
}
