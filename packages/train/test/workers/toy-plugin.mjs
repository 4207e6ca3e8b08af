// A user's plugin: registers an objective by name, as a trainer --plugin module does.
import { tf } from "@tokenrl/core";
import { objectives } from "@tokenrl/objectives";

const ppo = objectives.get("ppo-clip");
objectives.register("toy-halved-ppo", {
  ...ppo,
  name: "toy-halved-ppo",
  description: "PPO clip at half weight (a test plugin)",
  compute(batch, options, context) {
    const r = ppo.compute(batch, options, context);
    const loss = tf.mul(r.loss, 0.5);
    r.loss.dispose();
    return { loss, metrics: {} };
  },
});
