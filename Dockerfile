# JupyterLab with the project's TypeScript kernel, the native TensorFlow library built, the
# Fashion-MNIST data and the notebooks: one image for a classroom machine, a cloud notebook
# service or Zero to JupyterHub.
#
#   docker build -t fmnist-ts .
#   docker run --rm -p 127.0.0.1:8888:8888 fmnist-ts      # then open the URL it prints
#
# The image is provisioned by scripts/provision.sh, the same script that scripts/fresh-root-test.sh
# runs inside a brand-new Debian root: that test (run by CI) is this build's proof on machines
# where no container engine runs.
FROM node:24-bookworm-slim

# The README's system packages (Python with venv, g++ and make for the binding, the data).
COPY scripts/provision.sh /tmp/provision.sh
RUN bash /tmp/provision.sh system && rm -rf /var/lib/apt/lists/* /tmp/provision.sh

# Binder and JupyterHub expect a non-root user with uid 1000; the base image's `node` user is
# renamed to `learner`.
ARG NB_USER=learner
ARG NB_UID=1000
RUN usermod --login "$NB_USER" --home "/home/$NB_USER" --move-home node && groupmod --new-name "$NB_USER" node

WORKDIR /opt/fmnist
COPY --chown=${NB_UID}:${NB_UID} . /opt/fmnist
USER ${NB_UID}
# npm install (the README's first command), then JupyterHub (hub/requirements-hub.txt) for
# jupyterhub-singleuser, with which Zero to JupyterHub and Binder start a learner's server. The
# 270 MB wheel cache is only needed to rebuild the binding.
RUN bash scripts/provision.sh project /opt/fmnist \
 && .venv/bin/python -m pip install --disable-pip-version-check --no-cache-dir -q -r hub/requirements-hub.txt \
 && rm -rf .cache/tensorflow "$HOME/.npm" "$HOME/.cache/pip"

# The project's Jupyter and kernel first on PATH, so a `jupyter …` started by a hub or Binder finds
# the fmnist-ts kernel; the lab listens on all of the container's addresses so a published port
# reaches it.
ENV PATH=/opt/fmnist/.venv/bin:$PATH \
    FMNIST_LAB_IP=0.0.0.0 \
    FMNIST_LAB_PORT=8888
EXPOSE 8888
CMD ["npm", "start"]
